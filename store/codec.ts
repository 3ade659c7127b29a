import type * as Baileys from '@whiskeysockets/baileys'
import { parseBufferJson, stringifyBufferJson } from './buffer-json.ts'
import type { PendingReason, PollRecord, PollStatus, RawVote, RowState, ScanRow, SenderRow, StoredVote } from './ports.ts'

/**
 * What every store implementation encodes the same way: Baileys' auth values as JSON with its
 * Buffer codec (and the repairs their reading needs), and the packed journal scan.
 */

/**
 * Baileys (initAuthCreds, proto), imported by the first auth-state load() rather than with the
 * store: importing it costs ~220 ms, and the server listens and serves reads before any account
 * connects (issue #16). Credentials are made and app-state keys revived only after a load(): a
 * connection loads its auth state before its socket exists, creds come only from a load(), and
 * keys are read through the `keys` a load() returns. BufferJSON itself is ours (buffer-json.ts),
 * so LID↔PN mappings, which identity reads before any connection, need no Baileys either.
 */
let baileys: typeof Baileys | null = null
let loading: Promise<typeof Baileys> | null = null

/** Imports Baileys for the auth codecs (once); an auth state's load() awaits it first. */
export function loadAuthCodec(): Promise<typeof Baileys> {
  return (loading ??= import('@whiskeysockets/baileys').then((m) => (baileys = m)))
}

function lib(): typeof Baileys {
  if (!baileys) throw new Error('Baileys is not loaded yet: an app-state key is read before the auth state\'s load() (store/codec.ts loadAuthCodec)')
  return baileys
}

/** An auth value as Baileys' BufferJSON writes it (buffer-json.ts: the same text, a few times faster). */
export const encodeAuthValue: (value: unknown) => string = stringifyBufferJson
/** An auth value as Baileys' BufferJSON reads it (typed as JSON.parse is: callers name what they read). */
export const decodeAuthValue: (text: string) => any = parseBufferJson

/**
 * A lid-mapping value: a JSON string (a LID's or a phone number's user part). BufferJSON's
 * reviver changes only objects, so plain JSON.parse reads a string exactly as decodeAuthValue
 * does, without Baileys; every reader keeps a string only.
 */
export const decodeLidMapping = (text: string): unknown => JSON.parse(text)

/**
 * Baileys rc14 stores a sender-key record as the bytes of plain `JSON.stringify` (a Buffer
 * becomes `{ type: 'Buffer', data: [numbers] }`) but reads it with `BufferJSON.reviver`, which
 * revives only base64 data. A skipped group message key then comes back as an object, and every
 * group message that arrives after a later one from the same sender fails to decrypt ("Expected
 * Buffer instead of: Object"), costing a retry round trip through the sender's phone. Handing the
 * record out in the form the reviver reads fixes that, for records already stored too.
 */
export function revivableSenderKey(value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value
  const text = Buffer.from(value).toString('utf-8')
  if (!text.includes('"data":[')) return value
  try {
    return Buffer.from(encodeAuthValue(JSON.parse(text)), 'utf-8')
  } catch {
    return value
  }
}

/** A stored Signal key as Baileys reads it: sender keys repaired, app-state keys as protobuf objects. */
export function reviveKey(type: string, text: string): unknown {
  if (type === 'lid-mapping') return decodeLidMapping(text)
  const value = decodeAuthValue(text)
  if (type === 'sender-key') return revivableSenderKey(value)
  return type === 'app-state-sync-key' ? lib().proto.Message.AppStateSyncKeyData.fromObject(value) : value
}

const STATE_CODE: Record<string, RowState> = { o: 'ok', p: 'pending', r: 'rejected', d: 'dup' }

/**
 * A chunk of journal rows as the scan packs them in SQL (one string instead of one row object
 * per vote: a driver materialises rows one by one, the database concatenates at a fraction of
 * that): per row, seq, poll id, hash, the state's first letter, voter key ('-' for none), sender
 * timestamp, and the mask (or 's' + selection, or '-'), every field separated by the ASCII unit
 * separator, which no hash or number contains. A poll id or voter key comes off the wire and
 * might: one that holds the separator, or starts with the record separator, is sent as that
 * mark and the hex of its UTF-8 bytes (scanText below). Read with indexOf rather than split: a
 * million rows are seven million fields, and only three of them need to become strings.
 */
export function* unpackScan(packed: string, rowsPer = SCAN_ROWS): Generator<ScanRow[]> {
  let rows: ScanRow[] = []
  const end = packed.length
  let i = 0
  const field = () => {
    let j = packed.indexOf('\x1f', i)
    if (j < 0) j = end
    const f = packed.slice(i, j)
    i = j + 1
    return f.charCodeAt(0) === 30 ? Buffer.from(f.slice(1), 'hex').toString('utf8') : f
  }
  // A decimal integer without making a string of it (a third of the scan's garbage otherwise);
  // anything else (a sender timestamp out of range is stored as a real: 1.2e+21) through Number.
  const num = () => {
    const from = i
    let sign = 1, n = 0, c = packed.charCodeAt(i)
    if (c === 45) { sign = -1; c = packed.charCodeAt(++i) }
    for (; c >= 48 && c <= 57; c = packed.charCodeAt(++i)) n = n * 10 + (c - 48)
    if (i < end && c !== 31) {
      i = from
      return Number(field())
    }
    i++
    return sign * n
  }
  while (i < end) {
    const seq = num()
    const pollId = field()
    const hash = field()
    const state = STATE_CODE[packed[i]!]!
    i += 2
    const key = field()
    const senderTs = num()
    const c = packed.charCodeAt(i)
    let mask: number | null = null, selected: string | null = null
    if (c === 115) { i++; selected = field() } // 's': the selection as listed
    else if (c === 45 && (i + 1 === end || packed.charCodeAt(i + 1) === 31)) i += 2 // '-': none
    else mask = num()
    rows.push({ seq, pollId, hash, state, voterKey: key === '-' ? null : key, senderTs, mask, selected })
    if (rows.length === rowsPer) {
      yield rows
      rows = []
    }
  }
  if (rows.length) yield rows
}

/**
 * A text column as the packed scan sends it, in SQL (SQLite's and PostgreSQL's spelling): as
 * it is, or, when it holds the unit separator or starts with the record separator, the record
 * separator and the hex of its UTF-8 bytes.
 */
export const scanText = {
  sqlite: (col: string) => `CASE WHEN instr(${col}, char(31)) > 0 OR substr(${col}, 1, 1) = char(30) THEN char(30) || hex(${col}) ELSE ${col} END`,
  postgres: (col: string) => `CASE WHEN strpos(${col}, chr(31)) > 0 OR left(${col}, 1) = chr(30) THEN chr(30) || encode(convert_to(${col}, 'UTF8'), 'hex') ELSE ${col} END`,
}

/**
 * Rows per scan query: SQLite's is a call into the library, PostgreSQL's a round trip. Either
 * way the text comes as one string, a single object for the collector however long.
 */
export const SCAN_CHUNK = { sqlite: 1_000, postgres: 20_000 }
/**
 * Rows handed to the engine at a time. Rows alive across a young-generation collection are
 * copied and, at the second, moved to the old generation: with 20,000 a start over 1,000,000
 * rows grew the heap by 100 MB more than with 1,000, and took 7% longer (bench/README.md).
 */
export const SCAN_ROWS = 1_000

/** A pending or unconfirmed row as both stores select it (from_me: 1/0 in SQLite, a boolean in PostgreSQL). */
export type SenderTuple = [number, string, string | null, string, string, string | null, string | null, string | null, number | boolean]

export function senderRow([seq, hash, reason, pollId, chatId, participant, participantAlt, remoteJidAlt, fromMe]: SenderTuple): SenderRow {
  return {
    seq,
    hash,
    reason: (reason ?? 'no_key') as PendingReason,
    raw: { pollId, chatId, participant: participant ?? undefined, participantAlt: participantAlt ?? undefined,
      remoteJidAlt: remoteJidAlt ?? undefined, fromMe: fromMe === 1 || fromMe === true },
  }
}

/** A whole journal row as both stores select it. */
export function toStored(r: Record<string, unknown>): StoredVote {
  const opt = (v: unknown) => (v === null || v === undefined ? undefined : (v as string))
  const selected = opt(r.selected)
  return {
    seq: r.seq as number,
    hash: r.payload_hash as string,
    raw: {
      msgId: opt(r.msg_id),
      pollId: r.poll_id as string,
      chatId: r.chat_id as string,
      remoteJidAlt: opt(r.remote_jid_alt),
      participant: opt(r.participant),
      participantAlt: opt(r.participant_alt),
      fromMe: r.from_me === 1 || r.from_me === true,
      senderTimestampMs: r.sender_ts as number,
      encPayload: new Uint8Array(r.enc_payload as Buffer),
      encIv: new Uint8Array(r.enc_iv as Buffer),
      source: r.source as RawVote['source'],
      receivedAt: r.received_at as number,
    },
    state: r.state as RowState,
    reason: opt(r.reason),
    dupOf: (r.dup_of as number | null) ?? undefined,
    voterKey: opt(r.voter_key),
    creatorJid: opt(r.creator_jid),
    voterJid: opt(r.voter_jid),
    selected: selected === undefined ? undefined : selected === '' ? [] : selected.split(','),
    mask: (r.sel_mask as number | null) ?? undefined,
    confirmed: r.confirmed === 1 || r.confirmed === true,
  }
}

/**
 * A poll row as both stores select it. The option lists are JSON text in SQLite and JSONB
 * (already parsed by the driver) in PostgreSQL.
 */
export function toPollRecord(r: Record<string, unknown>): PollRecord {
  const list = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as string[]
  return {
    id: r.id as string,
    chatId: r.chat_id as string,
    question: r.question as string,
    options: list(r.options),
    hashes: list(r.option_hashes),
    selectableCount: r.selectable_count as number,
    secret: new Uint8Array(r.secret as Buffer),
    timestamp: r.created_at as number,
    status: r.status as PollStatus,
    reason: (r.reason as string | null) ?? undefined,
    creatorJid: (r.creator_jid as string | null) ?? undefined,
  }
}
