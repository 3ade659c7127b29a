#!/usr/bin/env node
// Runs the Dockerfile's own steps where no Docker engine is, to prove the image would work:
// copies exactly what its COPY lines copy (minus .dockerignore) into an empty temp directory,
// runs its RUN steps there (those that touch only the app directory), starts its CMD with a
// loopback HOST, a free PORT, a temp DATA_DIR and an unreachable WhatsApp, waits for /health,
// runs its HEALTHCHECK command, then stops it with SIGTERM and expects a clean exit.
//
//   node .ci/check-dockerfile.mjs [--offline] [--keep]
//
// --offline  npm may not reach the network: it installs from the local npm cache only.
// --keep     leave the temp directory for inspection.
//
// npm runs with a private copy of the local cache (index copied, content hard-linked), so the
// image's `npm cache clean --force` cannot empty the developer's cache.
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const OFFLINE = process.argv.includes('--offline')
const KEEP = process.argv.includes('--keep')
const HEALTH_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 15_000

const say = (msg) => process.stdout.write(`check-dockerfile: ${msg}\n`)
const fail = (msg) => { process.stderr.write(`check-dockerfile: FAIL ${msg}\n`); process.exitCode = 1; throw new Error(msg) }

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text) {
  const out = []
  let current = ''
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '')
    if (!current && /^\s*(#|$)/.test(line)) continue
    if (/\\\s*$/.test(line)) { current += line.replace(/\\\s*$/, ' '); continue }
    current += line
    const m = /^\s*(\w+)\s+(.*)$/.exec(current)
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() })
    current = ''
  }
  return out
}

/** `K=V K2="v 2"` → entries. */
function parseEnv(args) {
  const env = {}
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|'([^']*)'|(\S*))/g)) env[m[1]] = m[3] ?? m[4] ?? m[5] ?? ''
  return env
}

/** .dockerignore as Docker reads it: root-relative globs, `**`, `!` exceptions, a match excludes the subtree. */
function dockerignore(root) {
  const file = join(root, '.dockerignore')
  if (!existsSync(file)) return () => false
  const rules = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!')
    const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '')
    const source = pattern.split('/').map((seg) => seg === '**' ? '.*' : seg
      .replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('/')
    return { negate, re: new RegExp(`^${source.replace(/\.\*\//g, '(?:.*/)?')}$`) }
  })
  return (rel) => {
    const parts = rel.split(sep)
    let ignored = false
    for (const rule of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (rule.re.test(parts.slice(0, i).join('/'))) { ignored = !rule.negate; break }
      }
    }
    return ignored
  }
}

function freePort() {
  return new Promise((ok, no) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)) })
    srv.on('error', no)
  })
}

/** A private npm cache: the index copied (npm appends to it), the immutable content hard-linked. */
function privateNpmCache(into) {
  const real = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim()
  const cacache = join(real, '_cacache')
  mkdirSync(join(into, '_cacache'), { recursive: true })
  if (!real || !existsSync(cacache)) return into
  for (const entry of readdirSync(cacache)) {
    const from = join(cacache, entry)
    const to = join(into, '_cacache', entry)
    const linked = entry === 'content-v2' && spawnSync('cp', ['-al', from, to]).status === 0
    if (!linked) cpSync(from, to, { recursive: true })
  }
  return into
}

async function main() {
  const steps = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const work = mkdtempSync(join(tmpdir(), 'pollwire-dockerfile-'))
  const app = join(work, 'app')
  const dataDir = join(work, 'data')
  const home = join(work, 'home')
  mkdirSync(app); mkdirSync(home)
  const ignored = dockerignore(ROOT)
  const imageEnv = {}
  let workdir = null
  let cmd = null
  let healthcheck = null
  let child = null

  const npmCache = privateNpmCache(join(work, 'npm-cache'))
  const baseEnv = {
    PATH: process.env.PATH, HOME: home,
    npm_config_cache: npmCache, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false',
    // Offline, npm must find every packument in the cache. An install that wrote the cache
    // stored full documents, while `npm ci` asks for the abbreviated ones unless `before` is
    // set; a date in the far future selects the same versions and the cached documents.
    ...(OFFLINE ? { npm_config_offline: 'true', npm_config_before: '2100-01-01' } : {}),
  }

  try {
    for (const { op, args } of steps) {
      if (op === 'FROM') {
        const want = /node:(\d+)/.exec(args)?.[1]
        const have = process.versions.node.split('.')[0]
        say(`FROM ${args} (running on node ${process.versions.node}${want && want !== have ? `; WARNING: the image has node ${want}` : ''})`)
      } else if (op === 'ENV') {
        Object.assign(imageEnv, parseEnv(args))
      } else if (op === 'WORKDIR') {
        workdir = args
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'))
        const dest = parts.pop()
        const destAbs = resolve(app, dest.startsWith('/') ? relative(workdir ?? '/', dest) : dest)
        if (!(destAbs + sep).startsWith(app + sep)) fail(`COPY to ${dest}: outside WORKDIR, cannot be checked here`)
        for (const src of parts) {
          const from = join(ROOT, src)
          if (!existsSync(from)) fail(`COPY ${src}: no such file in the build context`)
          // Docker copies a directory's contents; a file goes into a `dir/` destination by name.
          const into = statSync(from).isDirectory() ? destAbs
            : dest.endsWith('/') || parts.length > 1 ? join(destAbs, basename(src)) : destAbs
          cpSync(from, into, { recursive: true, filter: (p) => !ignored(relative(ROOT, p)) })
        }
        say(`COPY ${args}`)
      } else if (op === 'RUN') {
        // Steps on the image's own filesystem (mkdir /data, chown) have no meaning here.
        if (/(^|\s)\/(?!dev\/null)/.test(args)) { say(`RUN ${args}  [skipped: outside the app directory]`); continue }
        say(`RUN ${args}`)
        const run = spawnSync('sh', ['-c', args], { cwd: app, env: { ...baseEnv, ...imageEnv }, stdio: 'inherit' })
        if (run.status !== 0) fail(`RUN ${args} exited with ${run.status}`)
      } else if (op === 'HEALTHCHECK') {
        healthcheck = /\bCMD\s+(.*)$/.exec(args)?.[1] ?? null
      } else if (op === 'CMD') {
        try { cmd = JSON.parse(args) } catch { fail(`CMD must be the exec form (JSON array), got ${args}`) }
      }
    }
    if (!cmd) fail('the Dockerfile has no CMD')
    if (!existsSync(join(app, 'node_modules'))) fail('no node_modules after the RUN steps')

    const port = await freePort()
    const runEnv = {
      ...baseEnv, ...imageEnv,
      HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, WA_WS_URL: 'ws://127.0.0.1:9/ws/chat', LOG_LEVEL: 'warn',
    }
    say(`CMD ${JSON.stringify(cmd)} on 127.0.0.1:${port}`)
    const logs = []
    child = spawn(cmd[0], cmd.slice(1), { cwd: app, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d) => logs.push(String(d)))
    child.stderr.on('data', (d) => logs.push(String(d)))
    const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })))

    const base = `http://127.0.0.1:${port}`
    const started = Date.now()
    for (;;) {
      if (child.exitCode !== null) fail(`the server exited with ${child.exitCode}:\n${logs.join('').slice(-3000)}`)
      const res = await fetch(`${base}/health`).catch(() => null)
      if (res?.status === 200) break
      if (Date.now() - started > HEALTH_TIMEOUT_MS) fail(`/health did not answer 200 within ${HEALTH_TIMEOUT_MS} ms:\n${logs.join('').slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    say(`GET /health 200 after ${Date.now() - started} ms`)

    for (const path of ['/', '/web/app/main.js', '/web/vendor/socket.io.esm.min.js', '/openapi.json']) {
      const res = await fetch(base + path)
      if (res.status !== 200) fail(`GET ${path} answered ${res.status}: is it copied into the image?`)
      say(`GET ${path} 200`)
    }

    if (healthcheck) {
      const hc = spawnSync('sh', ['-c', healthcheck], { cwd: app, env: runEnv, encoding: 'utf8', timeout: 10_000 })
      if (hc.status !== 0) fail(`HEALTHCHECK exited with ${hc.status}: ${hc.stderr}`)
      say('HEALTHCHECK passes')
    }

    child.kill('SIGTERM')
    const timer = new Promise((ok) => setTimeout(() => ok(null), STOP_TIMEOUT_MS))
    const end = await Promise.race([exited, timer])
    if (!end) fail(`no exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`)
    if (end.code !== 0) fail(`exit ${end.code ?? end.signal} after SIGTERM:\n${logs.join('').slice(-3000)}`)
    child = null
    say('SIGTERM: clean exit 0')
    say('OK: the image\'s install and start steps work')
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    if (KEEP) say(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  if (!process.exitCode) process.stderr.write(`check-dockerfile: FAIL ${err.stack ?? err}\n`)
  process.exitCode = 1
})
