import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser } from 'playwright-core'
import { startApp, type Running } from '../app-under-test.ts'

/**
 * Who may call (issue #11) in a real browser: Debian's Chromium visits an attacker's pages
 * while the real app (fake WhatsApp socket) listens on 127.0.0.1. Chromium's resolver maps
 * evil.example and rebind.evil.example to 127.0.0.1, so a page of another site and a DNS
 * rebinding need no network. The browser, not the test, decides which Origin,
 * Sec-Fetch-Site and Content-Type each request carries. Then the dashboard still logs out.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP evil.example 127.0.0.1, MAP rebind.evil.example 127.0.0.1, EXCLUDE localhost']
const POLL = JSON.stringify({ chatId: '15551110001@s.whatsapp.net', question: 'Pwned?', options: ['Yes', 'No'] })

/** What an attacker's page does against `target`, reporting what it could see in document.title. */
const attackPage = (target: string) => `<!doctype html><meta charset="utf-8"><title>running</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${target}/logout" target="sink"><input name="confirm" value="yes"></form>
<script>
const seen = []
const run = async () => {
  await new Promise((resolve) => {
    document.querySelector('iframe').addEventListener('load', resolve, { once: true })
    document.getElementById('f').submit()
  })
  const attempts = [
    ['/send-poll', { body: new Blob([${JSON.stringify(POLL)}]) }],
    ['/send-poll', { body: ${JSON.stringify(POLL)} }],
    ['/logout', {}],
    ['/logout', { body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
  ]
  for (const [path, init] of attempts) {
    await fetch('${target}' + path, { method: 'POST', mode: 'no-cors', ...init }).catch(() => {})
  }
  try { const r = await fetch('${target}/get-chats'); seen.push('read:' + r.status) } catch { seen.push('read:blocked') }
  await new Promise((resolve) => {
    const ws = new WebSocket('${target.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket')
    ws.onmessage = (m) => { seen.push('ws:' + String(m.data).slice(0, 1)); ws.close(); resolve() }
    ws.onerror = () => { seen.push('ws:refused'); resolve() }
    setTimeout(resolve, 3000)
  })
  document.title = 'done ' + seen.join(' ')
}
run()
</script>`

interface World { app: Running; evil: Server; evilPort: number; browser: Browser }
const web = suite<World>('who may call, in Chromium', {} as World)

web.before(async (w) => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  w.app = await startApp()
  w.app.open()
  w.evil = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('target') ?? ''
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(attackPage(target))
  })
  await new Promise<void>((resolve) => w.evil.listen(0, '127.0.0.1', resolve))
  w.evilPort = (w.evil.address() as AddressInfo).port
  w.browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
})

web.after(async (w) => {
  await w.browser?.close()
  await new Promise<void>((resolve) => (w.evil ? w.evil.close(() => resolve()) : resolve()))
  await w.app?.close()
})

const appPort = (w: World) => new URL(w.app.url).port

async function visit(w: World, page: string): Promise<string> {
  const tab = await w.browser.newPage()
  try {
    await tab.goto(page)
    await tab.waitForFunction(() => document.title.startsWith('done'), undefined, { timeout: 20_000 })
    return await tab.title()
  } finally {
    await tab.close()
  }
}

const untouched = (w: World, why: string) => {
  assert.is(w.app.sockets.last().sent.length, 0, `${why}: no poll was sent`)
  assert.is(w.app.sockets.last().loggedOut, 0, `${why}: WhatsApp logout was not called`)
  assert.is(w.app.app.session.status(), 'ready', `${why}: still logged in`)
}

web('a page of another site: form POST /logout, no-cors fetches and a WebSocket do nothing', async (w) => {
  const title = await visit(w, `http://evil.example:${w.evilPort}/?target=http://127.0.0.1:${appPort(w)}`)
  untouched(w, 'evil.example')
  assert.match(title, /read:blocked/, 'the answer to a GET is not readable cross-origin')
  assert.match(title, /ws:refused/, `the Socket.IO WebSocket is refused: ${title}`)
})

web('a page on another localhost port (same site, another origin) does nothing either', async (w) => {
  const title = await visit(w, `http://localhost:${w.evilPort}/?target=http://localhost:${appPort(w)}`)
  untouched(w, 'localhost:other-port')
  assert.match(title, /ws:refused/, `the Socket.IO WebSocket is refused: ${title}`)
})

web('DNS rebinding: the attacker\'s name resolving to 127.0.0.1 gets 421 and no dashboard, data or socket', async (w) => {
  const tab = await w.browser.newPage()
  try {
    const rebound = `http://rebind.evil.example:${appPort(w)}`
    const res = await tab.goto(`${rebound}/`)
    assert.is(res?.status(), 421)
    assert.not.match(await tab.content(), /id="logout"|id="compose"/)
    // The rebound page is "same-origin" with the server now; what it would fetch and open:
    const got = await tab.evaluate(async () => {
      const chats = await fetch('/get-chats').then((r) => r.status)
      const logout = await fetch('/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status)
      const ws = await new Promise<string>((resolve) => {
        const s = new WebSocket(`ws://${location.host}/socket.io/?EIO=4&transport=websocket`)
        s.onmessage = () => { s.close(); resolve('open') }
        s.onerror = () => resolve('refused')
        setTimeout(() => resolve('timeout'), 3000)
      })
      return { chats, logout, ws }
    })
    assert.equal(got, { chats: 421, logout: 421, ws: 'refused' })
  } finally {
    await tab.close()
  }
  untouched(w, 'rebinding')
})

web('the dashboard itself still logs out (same-origin JSON POST)', async (w) => {
  const tab = await w.browser.newPage()
  try {
    tab.on('dialog', (d) => { void d.accept() })
    await tab.goto(w.app.url)
    await tab.locator('#logout').waitFor({ state: 'visible', timeout: 20_000 })
    await tab.locator('#logout').click()
    const first = w.app.sockets.sockets[0]!
    for (let i = 0; i < 200 && first.loggedOut === 0; i++) await new Promise((r) => setTimeout(r, 25))
    assert.is(first.loggedOut, 1, 'the dashboard logged out')
  } finally {
    await tab.close()
  }
})

web.run()
