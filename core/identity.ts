import type { Logger } from 'pino'
import type { WaUser } from '../contract/account.ts'
import { isLid, isPn, norm, userOf } from '../contract/jid.ts'
import type { SenderFields } from '../store/ports.ts'

/**
 * Identity, in one place: this account's own PN and LID, JID normalisation, and which LID
 * belongs to which phone number. Everything that needs to tell who someone is asks here.
 */

/** Where LID↔PN pairs are stored (the auth state's mapping keys); lookups never go to the network. */
export interface LidMapping {
  getLIDForPN(pn: string): Promise<string | null | undefined>
  getPNForLID(lid: string): Promise<string | null | undefined>
}

/** This account's own JIDs, as Baileys reports them (they may carry a device suffix). */
export interface OwnJids { pn?: string; lid?: string }

/** One person behind a vote: the JIDs the vote named, and both addresses where known. */
export interface Person {
  /** phone-number JID, no device */
  pn?: string
  /** LID, no device */
  lid?: string
  /** the JIDs the vote itself carried, as sent (they may carry a device suffix) */
  named: string[]
  /** the kind of address the vote came from */
  addressedAs?: 'pn' | 'lid'
}

export { isLid, isPn, norm, userOf }

/** Stands for this account in sender lists: all of its own votes come from one person. */
const OWN_SENDER = 'own'

/** Two senders are one person when their lists share a JID. */
export function sameSender(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) if (b.includes(x)) return true
  return false
}

/** The sender as the vote names it (not for own votes): the participant in a group, else the chat. */
export function namedSender(raw: SenderFields): Person {
  const p: Person = { named: [] }
  const first = raw.participant ?? raw.chatId
  const alt = raw.participant ? raw.participantAlt : raw.remoteJidAlt
  for (const jid of [first, alt]) {
    if (!jid) continue
    p.named.push(jid)
    const n = norm(jid)
    if (!n) continue
    if (isLid(n)) p.lid ??= n
    else if (isPn(n)) p.pn ??= n
    else continue
    p.addressedAs ??= isLid(n) ? 'lid' : 'pn'
  }
  return p
}

/** A voter is counted under the phone-number JID when it is known, else under the LID. */
export function voterKey(p: Person): string | undefined {
  return p.pn ?? p.lid
}

/**
 * One account's identity: its own JIDs (set at each login) and the LID↔PN pairs it knows —
 * from the stored mapping (loaded at start, then each pair Baileys stores), from the votes
 * themselves (a LID-addressed vote carries the PN as its alt JID), and from the merges the
 * engine persisted. Lookups in the store are bounded in time: a slow key store must not hold
 * back the journaling of a whole batch.
 */
export function createIdentity(deps: {
  lidMapping: LidMapping
  log: Logger
  lookupTimeoutMs?: number
}) {
  let me: OwnJids = {}
  const lidToPn = new Map<string, string>()
  const pnToLid = new Map<string, string>()
  const timeoutMs = deps.lookupTimeoutMs ?? 1000

  /** Own JIDs from the logged-in user; null after a logout. */
  function setOwn(user: WaUser | null): void {
    me = user ? { pn: user.id || undefined, lid: user.lid || undefined } : {}
  }

  /** Whether a JID names this account (any device, PN or LID). */
  function isOwn(jid: string | undefined): boolean {
    const u = userOf(jid)
    return !!u && (u === userOf(me.pn) || u === userOf(me.lid))
  }

  /**
   * The id a chat is listed under, or null to leave it out: a person known by LID and by
   * phone number is one chat (listed by number), and this account is not a chat.
   */
  function chatId(jid: string): string | null {
    const id = isLid(jid) ? lidToPn.get(norm(jid)) ?? jid : jid
    return isOwn(id) ? null : id
  }

  /** Records a pair. The first pair known for a LID wins. */
  function learn(pn: string, lid: string): void {
    if (lidToPn.has(lid)) return
    lidToPn.set(lid, pn)
    if (!pnToLid.has(pn)) pnToLid.set(pn, lid)
  }

  function own(): Person {
    const { pn, lid } = me
    const p: Person = { named: [] }
    if (pn) { p.pn = norm(pn); p.named.push(pn) }
    if (lid) { p.lid = norm(lid); p.named.push(lid) }
    return p
  }

  /** What the vote alone (plus pairs already known) says about its sender. Synchronous. */
  function fromRaw(raw: SenderFields): Person {
    if (raw.fromMe) return own()
    const p = namedSender(raw)
    // Only LID → PN from votes (one map insert per new person on the hot path): that is what
    // keys a later LID-only vote; a PN-only vote that needs the LID asks Baileys, who caches it.
    if (p.lid && p.pn) { if (!lidToPn.has(p.lid)) lidToPn.set(p.lid, p.pn) }
    else if (p.lid) p.pn = lidToPn.get(p.lid)
    else if (p.pn) p.lid = pnToLid.get(p.pn)
    return p
  }

  /** Asks the mapping store for the PN of a LID-only voter (needed for the voter key). */
  async function completePn(p: Person): Promise<void> {
    if (p.pn || !p.lid) return
    const pn = lidToPn.get(p.lid) ?? norm(await bounded(() => deps.lidMapping.getPNForLID(p.lid!), p.lid))
    if (!pn) return
    p.pn = pn
    learn(pn, p.lid)
  }

  /** Asks for the LID of a PN-only voter: only when no pair decrypted, as it may cost a usync query. */
  async function completeLid(p: Person): Promise<void> {
    if (p.lid || !p.pn) return
    const lid = pnToLid.get(p.pn) ?? norm(await bounded(() => deps.lidMapping.getLIDForPN(p.pn!), p.pn))
    if (!lid) return
    p.lid = lid
    learn(p.pn, lid)
  }

  async function bounded(fn: () => Promise<string | null | undefined>, jid: string): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs) })
      return (await Promise.race([fn(), timeout])) ?? undefined
    } catch (err) {
      deps.log.warn({ err, jid }, 'lid mapping lookup failed')
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * The sender's JIDs, normalised, both addresses where known: two sightings of one person's
   * vote share at least one, whichever address each was delivered under.
   */
  function senderIds(raw: SenderFields): string[] {
    if (raw.fromMe) return [OWN_SENDER]
    const p = fromRaw(raw)
    const out: string[] = []
    for (const j of [p.pn, p.lid, ...p.named]) {
      const n = norm(j)
      if (n && !out.includes(n)) out.push(n)
    }
    return out
  }

  return {
    setOwn,
    /** own JIDs as Baileys reported them at login (empty before the first) */
    ownJids: (): OwnJids => me,
    isOwn,
    chatId,
    learn,
    own,
    fromRaw,
    senderIds,
    completePn,
    completeLid,
  }
}

export type Identity = ReturnType<typeof createIdentity>

/** Own JIDs a poll creator may have been signed with: without device first, then as given. */
export function creatorCandidates(identity: OwnJids): string[] {
  const out: string[] = []
  for (const j of [norm(identity.pn), norm(identity.lid), identity.pn, identity.lid]) if (j && !out.includes(j)) out.push(j)
  return out
}

/** The candidates with the one that last worked for this poll first. */
export function withHint(candidates: string[], hint: string | undefined): string[] {
  if (!hint || candidates[0] === hint) return candidates
  return [hint, ...candidates.filter((c) => c !== hint)]
}

/**
 * Voter JIDs to try: the kind that worked last for this poll first ('pn' or 'lid'), else the
 * JID the vote was addressed from (what Baileys itself would sign with); then the other
 * address; then the JIDs exactly as carried (a device suffix would be unusual but possible).
 */
export function voterCandidates(p: Person, prefer: 'pn' | 'lid' | undefined): string[] {
  const out: string[] = []
  const add = (j: string | undefined) => { if (j && !out.includes(j)) out.push(j) }
  const kind = prefer ?? p.addressedAs
  if (kind === 'lid') { add(p.lid); add(p.pn) } else { add(p.pn); add(p.lid) }
  for (const j of p.named) add(j)
  return out
}
