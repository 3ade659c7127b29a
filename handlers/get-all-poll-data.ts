import type { Handler } from '../contract/http.ts'
import type { PollReader } from '../contract/polls.ts'

/** A body up to this size is kept, for the next request at the same revision. */
const CACHE_BYTES = 4 << 20
/** Text gathered before it is encoded: one write to the socket per piece this size. */
const PIECE_CHARS = 64 << 10

/**
 * The last body per poll reader, while small. A client that polls this endpoint then costs a
 * write, not a rewrite of every poll. A larger body is streamed and not kept: 10,000 polls of
 * 75 voters are 88 MB of JSON, which would otherwise be held (and built as one string) for good.
 */
const bodies = new WeakMap<PollReader, { revision: number; body: Uint8Array<ArrayBuffer> }>()

const HEADERS = { 'content-type': 'application/json; charset=utf-8' }
const encoder = new TextEncoder()

/** GET /get-all-poll-data — every poll with its live tally, keyed by poll message id. */
export const getAllPollData: Handler = (_req, ctx) => {
  const revision = ctx.polls.revision()
  const hit = bodies.get(ctx.polls)
  if (hit && hit.revision === revision) return new Response(hit.body, { status: 200, headers: HEADERS })
  const text = ctx.polls.allJson()[Symbol.iterator]()
  let ended = false
  /** The next piece of the body: PIECE_CHARS of text or what is left; undefined at the end. */
  const next = (): Uint8Array<ArrayBuffer> | undefined => {
    if (ended) return undefined
    let s = ''
    while (s.length < PIECE_CHARS) {
      const r = text.next()
      if (r.done) { ended = true; s += '}'; break }
      s += r.value
    }
    return encoder.encode(s) as Uint8Array<ArrayBuffer>
  }
  const pieces: Uint8Array<ArrayBuffer>[] = [encoder.encode('{"success":true,"polls":') as Uint8Array<ArrayBuffer>]
  let size = pieces[0]!.byteLength
  while (size <= CACHE_BYTES) {
    const piece = next()
    if (!piece) {
      const body = concat(pieces, size)
      bodies.set(ctx.polls, { revision, body })
      return new Response(body, { status: 200, headers: HEADERS })
    }
    pieces.push(piece)
    size += piece.byteLength
  }
  // Past the cache's size: what is written goes out, the rest is written as the client reads it.
  bodies.delete(ctx.polls)
  return new Response(new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces.shift() ?? next()
      if (piece) controller.enqueue(piece)
      else controller.close()
    },
  }), { status: 200, headers: HEADERS })
}

function concat(pieces: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size)
  let at = 0
  for (const p of pieces) { out.set(p, at); at += p.byteLength }
  return out
}
