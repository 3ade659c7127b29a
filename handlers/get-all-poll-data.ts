import type { Handler } from '../contract/http.ts'
import type { PollReader } from '../contract/polls.ts'

/** A body up to this size is kept, for the next request at the same revision. */
const CACHE_BYTES = 4 << 20
/** Up to this size when the same revision is asked for again: somebody polls it. */
const REPEAT_CACHE_BYTES = 32 << 20
/** Text gathered before it is encoded: one write to the socket per piece this size. */
const PIECE_CHARS = 64 << 10

/**
 * The last body per poll reader. A client that polls this endpoint then costs a write, not a
 * rewrite of every poll. A body over 4 MB is streamed and, the first time, not kept: one read
 * after a start, or between two changes, should not hold megabytes until the next change. Asked
 * for again at the same revision, it is kept up to 32 MB; past that it is streamed every time
 * (10,000 polls of 75 voters are 45 MB of JSON). `body` is null while a revision was only
 * streamed.
 */
const bodies = new WeakMap<PollReader, { revision: number; body: Uint8Array<ArrayBuffer> | null }>()

const HEADERS = { 'content-type': 'application/json; charset=utf-8' }
const encoder = new TextEncoder()

/** GET /get-all-poll-data — every poll with its live tally, keyed by poll message id. */
export const getAllPollData: Handler = (_req, ctx) => {
  const revision = ctx.polls.revision()
  const seen = bodies.get(ctx.polls)
  if (seen?.revision === revision && seen.body) return new Response(seen.body, { status: 200, headers: HEADERS })
  const limit = seen?.revision === revision ? REPEAT_CACHE_BYTES : CACHE_BYTES
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
  while (size <= limit) {
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
  bodies.set(ctx.polls, { revision, body: null })
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
