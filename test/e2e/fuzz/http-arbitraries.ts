/**
 * fast-check arbitraries for hostile HTTP requests against pollwire: wrong methods and types,
 * huge and deeply nested bodies, invalid UTF-8 and JSON, unknown fields, header abuse (content
 * types, huge and many headers, bad Authorization, broken framing) and path abuse (encoded
 * slashes, dot segments, long ids, raw bytes).
 */
import fc from 'fast-check'
import { parsePollInput } from '../../../handlers/lib/poll-input.ts'
import { buildRequest, chunked } from './raw-http.ts'

export interface FuzzSpec {
  method: string
  /** the request-target as sent, byte for byte */
  target: Buffer
  contentType: string | undefined
  auth: AuthMode
  framing: 'length' | 'chunked' | 'none' | 'both' | 'declared-huge' | 'short'
  extra: Array<[string, string]>
  body: Buffer
}

export type AuthMode = 'good' | 'none' | 'wrong' | 'basic' | 'empty' | 'lowercase' | 'huge' | 'twice' | 'spaces' | 'latin1'

/** Every route (with its own method), the dashboard's files, the Socket.IO transport, and a path nobody serves. */
const ROUTE_METHODS: Record<string, string> = {
  '/status': 'GET', '/send-poll': 'POST', '/get-chats': 'GET', '/logout': 'POST', '/get-all-poll-data': 'GET', '/health': 'GET',
  '/polls/:id': 'GET', '/polls/:id/votes': 'GET', '/polls/:id/results.csv': 'GET', '/pairing-code': 'POST',
  '/status/qr.svg': 'GET', '/metrics': 'GET', '/openapi.json': 'GET', '/': 'GET', '/web/': 'GET', '/web/index.html': 'GET',
  '/web/app/main.js': 'GET', '/socket.io/?EIO=4&transport=polling': 'GET', '/nope': 'GET',
}
const ROUTES = Object.keys(ROUTE_METHODS)
/** the routes that take a body get more of the requests */
const routeArb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('/send-poll', '/pairing-code') },
  { weight: 3, arbitrary: fc.constantFrom(...ROUTES) },
)

const idArb = (pollId: string) => fc.oneof(
  fc.constant(pollId),
  fc.constant('3EB0FFFFFFFFFFFFFFFFFF'),
  fc.integer({ min: 200, max: 20_000 }).map((n) => 'A'.repeat(n)),
  fc.constantFrom('..', '..%2F..%2Fpollwire.db', '%2e%2e', '%00', '%', '%E0%A4%A', '%F0%9F%92%A5', ';', '.', '~', '*'),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
)

const MUTATIONS: Record<string, (p: string) => string> = {
  'trailing-slash': (p) => `${p}/`,
  'double-slash': (p) => `/${p}`,
  'dot': (p) => `/.${p}`,
  'dot-dot': (p) => `/web/..${p}`,
  'encoded-dot-dot': (p) => `/web/%2e%2e${p}`,
  'escape-root': () => '/web/..%2f..%2f..%2f..%2fetc%2fpasswd',
  'escape-root-raw': () => '/web/../../../../etc/passwd',
  'escape-db': () => '/web/%2e%2e/%2e%2e/data/pollwire.db',
  'encoded-slashes': (p) => p.replace(/(?!^)\//g, '%2F'),
  'encoded-letter': (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  'upper': (p) => p.toUpperCase(),
  'query': (p) => `${p}?a=1&b=%zz&c[]=x&__proto__[x]=1`,
  'fragment': (p) => `${p}#frag`,
  'nul': (p) => `${p}%00`,
  'bad-percent': (p) => `${p}%zz%`,
  'backslash': (p) => p.replace('/', '\\'),
  'semicolon': (p) => `${p};jsessionid=1`,
  'absolute-form': (p) => `http://127.0.0.1${p}`,
  'asterisk': () => '*',
  'no-slash': (p) => p.slice(1),
  'long-tail': (p) => `${p}/${'x'.repeat(9000)}`,
}

/** Targets Node's parser rejects outright are rarer, so most requests reach the router. */
const PARSER_LEVEL = new Set(['asterisk', 'no-slash', 'backslash'])
const mutationArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...Object.keys(MUTATIONS).filter((m) => !PARSER_LEVEL.has(m))) },
  { weight: 1, arbitrary: fc.constantFrom(...PARSER_LEVEL) },
)

const pathArb = (route: string, pollId: string): fc.Arbitrary<Buffer> => fc.oneof(
  { weight: 12, arbitrary: idArb(pollId).map((id) => Buffer.from(route.replace(':id', id), 'latin1')) },
  { weight: 6, arbitrary: fc.tuple(idArb(pollId), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([id, muts]) => Buffer.from(muts.reduce((p, m) => MUTATIONS[m]!(p), route.replace(':id', id)), 'latin1')) },
  // raw bytes in the path: invalid UTF-8, control characters (not CR/LF, which end the line)
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 })
    .map((bytes) => Buffer.concat([Buffer.from(route.replace(':id', pollId), 'latin1'), Buffer.from(bytes.filter((b) => b !== 10 && b !== 13 && b !== 32))])) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(`/${s}`.replace(/[\r\n ]/g, ''), 'utf-8')) },
)

const JIDS = ['15551234567@s.whatsapp.net', '120363000000000001@g.us', '80000000001@lid']
const anyJson = fc.jsonValue({ maxDepth: 3 })

/** Mostly `good`, sometimes `bad` (undefined: the field is left out). */
const validOr = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad })

/** A send-poll body whose fields are each valid, or wrong in one of many ways, plus unknown fields. */
const pollBodyArb = fc.record({
  chatId: validOr(fc.constantFrom(...JIDS), fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(undefined, '15551234567@s.whatsapp.net\n', ' 15551234567@s.whatsapp.net', '1@g.us', '15551234567@s.whatsapp.net@g.us', '15551234567@broadcast'), anyJson)),
  question: validOr(fc.string({ minLength: 1, maxLength: 40 }).filter((q) => q.trim() !== ''), fc.oneof(fc.constantFrom(undefined, '', '   ', 'x'.repeat(256), '\u0000', '\ud800'), anyJson)),
  options: validOr(
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }).filter((o) => o.trim() !== ''), { minLength: 1, maxLength: 12, selector: (o) => o.trim() }),
    fc.oneof(fc.constantFrom(undefined, [], ['a', 'a'], ['a', ' a '], [''], ['  '], ['x'.repeat(101)], Array.from({ length: 13 }, (_, i) => `o${i}`), 'Red,Blue', [1, 2], [null], [['a']], [{ a: 1 }]), anyJson),
  ),
  allowMultipleAnswers: validOr(fc.constantFrom(true, false, undefined), fc.oneof(fc.constantFrom('yes', 1, 0, null, 'true'), anyJson)),
  extra: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 3 }) }),
}).map(({ extra, ...fields }) => ({ ...extra, ...fields }))

const pairingBodyArb = fc.record({
  phoneNumber: fc.oneof(fc.constantFrom('15551234567', '+1 (555) 123-4567', '123', '1'.repeat(16), '', '١٢٣٤٥٦٧٨'), fc.string({ maxLength: 20 }), anyJson),
}, { requiredKeys: [] })

const deepJson = fc.tuple(fc.integer({ min: 30, max: 20_000 }), fc.constantFrom('array', 'object', 'mixed')).map(([n, kind]) =>
  kind === 'array' ? `${'['.repeat(n)}${']'.repeat(n)}`
    : kind === 'object' ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
      : `{"chatId":"15551234567@s.whatsapp.net","question":"q","options":${'[{"x":'.repeat(n)}1${'}]'.repeat(n)}}`)

const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: pollBodyArb.map((b) => Buffer.from(JSON.stringify(b))) },
  { weight: 2, arbitrary: pairingBodyArb.map((b) => Buffer.from(JSON.stringify(b))) },
  { weight: 2, arbitrary: anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  { weight: 2, arbitrary: deepJson.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.constantFrom(65_535, 65_536, 65_537, 200_000, 1_000_000).map((n) => Buffer.from(`{"question":"${'q'.repeat(Math.max(0, n - 15))}"}`)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) },
  // invalid UTF-8 inside otherwise valid JSON
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Buffer.concat([
    Buffer.from('{"chatId":"15551234567@s.whatsapp.net","question":"'), Buffer.from(b.map((x) => x | 0x80)), Buffer.from('","options":["a","b"]}'),
  ])) },
  { weight: 1, arbitrary: fc.tuple(pollBodyArb, fc.nat()).map(([b, cut]) => { const s = JSON.stringify(b); return Buffer.from(s.slice(0, cut % Math.max(1, s.length))) }) },
  { weight: 2, arbitrary: fc.constantFrom(
    '', ' ', 'null', '[]', '"x"', '1e309', '{}', '{"__proto__":{"success":true,"status":200}}',
    '{"constructor":{"prototype":{"polluted":true}},"chatId":"15551234567@s.whatsapp.net","question":"q","options":["a"]}',
    '\ufeff{"chatId":"15551234567@s.whatsapp.net","question":"q","options":["a"]}',
    '{"chatId":"x","chatId":"15551234567@s.whatsapp.net","question":"q","options":["a"]}',
    '{"options":[1e309,-0,1e-400],"question":-1e309}', '{"question":"\\ud800","options":["\\udfff"]}',
    'chatId=15551234567%40s.whatsapp.net&question=q&options=a', '<xml/>', '{"a":1}garbage',
  ).map((s) => Buffer.from(s)) },
)

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/json; charset=latin1',
  '', 'x'.repeat(5000), 'application/json, text/plain', ';;;', 'application/json\u00ff',
]

const headerName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/)
const extraHeaderArb: fc.Arbitrary<Array<[string, string]>> = fc.oneof(
  fc.tuple(headerName, fc.string({ maxLength: 100 }).map((s) => s.replace(/[\r\n]/g, ''))).map((h) => [h]),
  fc.constantFrom<Array<[string, string]>>(
    [['X-Huge', 'a'.repeat(20_000)]], [['X-Big', 'b'.repeat(4000)]], [['Expect', '100-continue']],
    [['Origin', 'http://evil.example']], [['Host', 'evil.example']], [['X-Forwarded-For', '1.2.3.4, 5.6.7.8']],
    [['Content-Encoding', 'gzip']], [['Content-Length', '3']], [['Transfer-Encoding', 'gzip, chunked']],
    [['X-Latin1', '\u00ff\u00fe']], [['Accept', '*/*'], ['Accept-Encoding', 'gzip, br']],
    Array.from({ length: 150 }, (_, i): [string, string] => [`X-Many-${i}`, 'v']),
  ),
)

export const AUTH_MODES: AuthMode[] = ['good', 'none', 'wrong', 'basic', 'empty', 'lowercase', 'huge', 'twice', 'spaces', 'latin1']

const weighted = <T>(pairs: Array<[T, number]>): fc.Arbitrary<T> =>
  fc.oneof(...pairs.map(([value, weight]) => ({ weight, arbitrary: fc.constant(value) })))

/**
 * One request: half are proper API calls with a hostile body, so they reach the handlers'
 * validation; the other half vary everything, and about one in five of those is broken at the
 * HTTP level (methods, framing, bytes, header sizes) and meets Node's parser instead.
 */
export function specArb(pollId: string): fc.Arbitrary<FuzzSpec> {
  return fc.oneof(wellFormedArb(pollId), anythingArb(pollId))
}

/** A proper API call (right method, token, JSON, framing) whose only fault is its body. */
function wellFormedArb(pollId: string): fc.Arbitrary<FuzzSpec> {
  return routeArb.chain((route) => fc.record({
    method: fc.constant(ROUTE_METHODS[route]!),
    target: idArb(pollId).map((id) => Buffer.from(route.replace(':id', id), 'latin1')),
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', undefined),
    auth: fc.constant<AuthMode>('good'),
    framing: fc.constant<FuzzSpec['framing']>('length'),
    extra: fc.constant<Array<[string, string]>>([]),
    // the body the route expects, broken or not, most of the time
    body: route === '/send-poll' ? fc.oneof({ weight: 3, arbitrary: pollBodyArb.map(jsonBytes) }, { weight: 1, arbitrary: bodyArb })
      : route === '/pairing-code' ? fc.oneof({ weight: 3, arbitrary: pairingBodyArb.map(jsonBytes) }, { weight: 1, arbitrary: bodyArb })
        : bodyArb,
  }))
}

const jsonBytes = (v: unknown) => Buffer.from(JSON.stringify(v))

function anythingArb(pollId: string): fc.Arbitrary<FuzzSpec> {
  return routeArb.chain((route) => fc.record({
    // mostly the route's own method; wrong ones too
    method: fc.oneof(
      { weight: 3, arbitrary: fc.constant(ROUTE_METHODS[route]!) },
      { weight: 2, arbitrary: weighted([['GET', 10], ['POST', 10], ['PUT', 4], ['DELETE', 4], ['PATCH', 4], ['OPTIONS', 3], ['HEAD', 4],
        ['TRACE', 1], ['PROPFIND', 1], ['FOO', 1], ['get', 1], ['CONNECT', 1]]) },
    ),
    target: pathArb(route, pollId),
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 3 }),
    auth: fc.oneof({ weight: 7, arbitrary: fc.constant<AuthMode>('good') }, { weight: 3, arbitrary: fc.constantFrom(...AUTH_MODES) }),
    framing: weighted<FuzzSpec['framing']>([['length', 24], ['chunked', 4], ['none', 2], ['both', 1], ['declared-huge', 1], ['short', 1]]),
    extra: fc.oneof({ weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 2, arbitrary: fc.array(extraHeaderArb, { minLength: 1, maxLength: 2 }).map((l) => l.flat()) }),
    body: bodyArb,
  }))
}

/** The bytes on the wire for `spec`. */
export function encode(spec: FuzzSpec, port: number, token: string | null): Buffer {
  const headers: Array<[string, string]> = [['Host', `127.0.0.1:${port}`], ['Connection', 'close']]
  if (token) {
    const auth: Record<AuthMode, string[]> = {
      good: [`Bearer ${token}`], none: [], wrong: [`Bearer ${token.slice(1)}x`], basic: [`Basic ${Buffer.from(`u:${token}`).toString('base64')}`],
      empty: ['Bearer '], lowercase: [`bearer ${token}`], huge: [`Bearer ${'t'.repeat(12_000)}`], twice: [`Bearer ${token}`, 'Bearer nope'],
      spaces: [`Bearer    ${token}   `], latin1: [`Bearer ${token}\u00ff`],
    }
    for (const v of auth[spec.auth]) headers.push(['Authorization', v])
  }
  if (spec.contentType !== undefined) headers.push(['Content-Type', spec.contentType])
  let body = spec.body
  switch (spec.framing) {
    case 'length': headers.push(['Content-Length', String(body.length)]); break
    case 'chunked': headers.push(['Transfer-Encoding', 'chunked']); body = chunked(body); break
    case 'none': body = Buffer.alloc(0); break
    case 'both': headers.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']); break
    case 'declared-huge': headers.push(['Content-Length', '10000000']); break
    case 'short': headers.push(['Content-Length', String(Math.floor(body.length / 2))]); break
  }
  headers.push(...spec.extra)
  return buildRequest(spec.method, spec.target, headers, body)
}

/**
 * True for a request that would really log out, or send a poll (when connected): the fuzzer
 * must not change state the way the contract says these do.
 */
export function changesStateByContract(spec: FuzzSpec, authorized: boolean, connected: boolean): boolean {
  if (spec.method !== 'POST' || !authorized) return false
  const target = spec.target.toString('latin1').toLowerCase()
  if (target.includes('logout')) return true
  if (!connected || (!target.includes('send-poll') && !target.includes('send%2dpoll'))) return false
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(spec.body)
    parsePollInput(JSON.parse(text.replace(/^\ufeff/, '')))
    return true
  } catch {
    return false
  }
}

/**
 * True when the request announces more body than it carries (a Content-Length or chunked
 * coding with nothing behind it): the server rightly waits for the rest, until Node's own
 * request timeout.
 */
export function incomplete(spec: FuzzSpec): boolean {
  const declares = (name: string) => spec.extra.some(([k]) => k.toLowerCase() === name)
  if (spec.framing === 'declared-huge') return true
  if (declares('content-length') && spec.framing !== 'both') return true
  return declares('transfer-encoding') && spec.framing !== 'chunked'
}

export function describeSpec(spec: FuzzSpec): string {
  const target = spec.target.toString('latin1')
  const body = spec.body.toString('latin1')
  return `${spec.method} ${target.length > 120 ? `${target.slice(0, 120)}…(${target.length})` : target} auth=${spec.auth} ` +
    `ct=${JSON.stringify(spec.contentType?.slice(0, 60))} framing=${spec.framing} ` +
    `extra=${JSON.stringify(spec.extra.slice(0, 3).map(([k, v]) => `${k}: ${v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v}`))}${spec.extra.length > 3 ? `+${spec.extra.length - 3}` : ''} ` +
    `body(${spec.body.length})=${JSON.stringify(body.length > 160 ? `${body.slice(0, 160)}…` : body)}`
}
