import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { callerRules, crossSiteWrite, hostAllowed, originAllowed, refuseCaller, type Caller } from '../../runtime/caller-guard.ts'

const NONE = { allowedHosts: [] }

const host = suite('hostAllowed')

host('loopback names and addresses, with or without a port', () => {
  for (const h of ['localhost', 'localhost:3000', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:3000', '127.1.2.3:80', '127.255.255.254', '[::1]', '[::1]:3000']) {
    assert.ok(hostAllowed(h, NONE), h)
  }
})

host('anything else is refused: other names, look-alikes, malformed or missing', () => {
  for (const h of [
    'rebind.evil.example:3000', 'evil.example', '127.evil.example', '127.0.0.1.evil.example', 'localhost.evil.example',
    '127.0.0.256', '127.0.0', '0.0.0.0:3000', '192.168.1.2:3000', '[::2]:3000', 'evil@localhost', 'localhost/x', 'localhost:abc',
    'localhost:', 'localhost:3000:1', ' localhost', '', undefined, null,
  ]) {
    assert.not.ok(hostAllowed(h, NONE), String(h))
  }
})

host('ALLOWED_HOSTS names match on any port, case-insensitively; an entry with a port matches only that port', () => {
  const opts = { allowedHosts: ['myhost', 'Pollwire.LAN', 'box:8080'] }
  assert.ok(hostAllowed('myhost:3000', opts))
  assert.ok(hostAllowed('MYHOST', opts))
  assert.ok(hostAllowed('pollwire.lan:3000', opts))
  assert.ok(hostAllowed('box:8080', opts))
  assert.not.ok(hostAllowed('box:3000', opts))
  assert.not.ok(hostAllowed('myhost.evil.example:3000', opts))
  assert.not.ok(hostAllowed('evil.example', opts))
})

host('a non-loopback bind address is allowed too', () => {
  assert.ok(hostAllowed('192.168.1.20:3000', { allowedHosts: [], bindHost: '192.168.1.20' }))
  assert.ok(hostAllowed('[fd00::1]:3000', { allowedHosts: [], bindHost: 'fd00::1' }))
  assert.not.ok(hostAllowed('192.168.1.21:3000', { allowedHosts: [], bindHost: '192.168.1.20' }))
  assert.not.ok(hostAllowed('evil.example:3000', { allowedHosts: [], bindHost: '0.0.0.0' }))
})

host.run()

// ---

const origin = suite('originAllowed')

origin('no Origin (not a browser) is allowed; the own origin and CORS_ORIGINS are allowed', () => {
  assert.ok(originAllowed(undefined, 'localhost:3000', []))
  assert.ok(originAllowed('http://localhost:3000', 'localhost:3000', []))
  assert.ok(originAllowed('http://LocalHost:3000', 'localhost:3000', []))
  assert.ok(originAllowed('http://pollwire.lan', 'pollwire.lan:80', []))
  assert.ok(originAllowed('https://pollwire.lan', 'pollwire.lan:443', []))
  assert.ok(originAllowed('https://gui.example', 'localhost:3000', ['https://gui.example']))
})

origin('another port, another host, another scheme, null and garbage are refused', () => {
  assert.not.ok(originAllowed('http://localhost:5555', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://127.0.0.1:3000', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://evil.example', 'localhost:3000', []))
  assert.not.ok(originAllowed('https://pollwire.lan', 'pollwire.lan:80', []))
  assert.not.ok(originAllowed('null', 'localhost:3000', []))
  assert.not.ok(originAllowed('localhost:3000', 'localhost:3000', []))
  assert.not.ok(originAllowed('http://localhost:3000', undefined, []))
  assert.not.ok(originAllowed('http://evil@localhost:3000', 'localhost:3000', []))
})

origin.run()

// ---

const cross = suite('crossSiteWrite')
const write = (over: Partial<Caller> = {}): Caller => ({ method: 'POST', host: 'localhost:3000', ...over })

cross('a write with a foreign Origin or Sec-Fetch-Site: cross-site is cross-site', () => {
  assert.ok(crossSiteWrite(write({ origin: 'http://evil.example' }), { corsOrigins: [] }))
  assert.ok(crossSiteWrite(write({ origin: 'http://localhost:5555' }), { corsOrigins: [] }))
  assert.ok(crossSiteWrite(write({ origin: 'null' }), { corsOrigins: [] }))
  assert.ok(crossSiteWrite(write({ fetchSite: 'cross-site' }), { corsOrigins: [] }))
  assert.ok(crossSiteWrite(write({ origin: 'http://localhost:3000', fetchSite: 'cross-site' }), { corsOrigins: [] }))
  for (const method of ['PUT', 'PATCH', 'DELETE']) assert.ok(crossSiteWrite(write({ method, origin: 'http://evil.example' }), { corsOrigins: [] }), method)
})

cross('the own origin, CORS_ORIGINS, no Origin at all, and reads are not', () => {
  assert.not.ok(crossSiteWrite(write(), { corsOrigins: [] }))
  assert.not.ok(crossSiteWrite(write({ origin: 'http://localhost:3000', fetchSite: 'same-origin' }), { corsOrigins: [] }))
  assert.not.ok(crossSiteWrite(write({ fetchSite: 'none' }), { corsOrigins: [] }))
  assert.not.ok(crossSiteWrite(write({ origin: 'https://gui.example' }), { corsOrigins: ['https://gui.example'] }))
  assert.not.ok(crossSiteWrite({ method: 'GET', host: 'localhost:3000', origin: 'http://evil.example', fetchSite: 'cross-site' }, { corsOrigins: [] }))
  assert.not.ok(crossSiteWrite({ method: 'HEAD', host: 'localhost:3000', origin: 'http://evil.example' }, { corsOrigins: [] }))
})

cross.run()

// ---

const refuse = suite('refuseCaller')

refuse('a foreign Host is 421 before anything else; a cross-site write is 403; the GUI passes', () => {
  const rules = callerRules({ apiToken: null, allowedHosts: [], host: '127.0.0.1', corsOrigins: [] })
  assert.is(refuseCaller({ method: 'GET', host: 'rebind.evil.example:3000' }, rules)?.status, 421)
  assert.is(refuseCaller({ method: 'GET' }, rules)?.status, 421)
  assert.is(refuseCaller({ method: 'POST', host: 'rebind.evil.example:3000', origin: 'http://rebind.evil.example:3000' }, rules)?.status, 421)
  assert.is(refuseCaller({ method: 'POST', host: 'localhost:3000', origin: 'http://evil.example' }, rules)?.status, 403)
  assert.is(refuseCaller({ method: 'POST', host: 'localhost:3000' }, rules), null)
  assert.is(refuseCaller({ method: 'GET', host: 'localhost:3000' }, rules), null)
  assert.type(refuseCaller({ method: 'GET', host: 'x.example' }, rules)?.message, 'string')
})

refuse('with API_TOKEN and no ALLOWED_HOSTS the Host is not checked; the cross-site rule still is', () => {
  const rules = callerRules({ apiToken: 'tok-tok-tok-tok-tok', allowedHosts: [], host: '127.0.0.1', corsOrigins: [] })
  assert.is(rules.hosts, null)
  assert.is(refuseCaller({ method: 'GET', host: 'rebind.evil.example:3000' }, rules), null)
  assert.is(refuseCaller({ method: 'POST', host: 'localhost:3000', origin: 'http://evil.example' }, rules)?.status, 403)
  const listed = callerRules({ apiToken: 'tok-tok-tok-tok-tok', allowedHosts: ['myhost'], host: '127.0.0.1', corsOrigins: [] })
  assert.is(refuseCaller({ method: 'GET', host: 'rebind.evil.example:3000' }, listed)?.status, 421)
  assert.is(refuseCaller({ method: 'GET', host: 'myhost:3000' }, listed), null)
})

refuse('a non-loopback HOST is allowed as a Host; a loopback or wildcard bind adds nothing', () => {
  assert.is(refuseCaller({ method: 'GET', host: '10.0.0.5:3000' }, callerRules({ apiToken: null, allowedHosts: [], host: '10.0.0.5', corsOrigins: [] })), null)
  assert.is(refuseCaller({ method: 'GET', host: '0.0.0.0:3000' }, callerRules({ apiToken: null, allowedHosts: [], host: '0.0.0.0', corsOrigins: [] }))?.status, 421)
})

refuse.run()
