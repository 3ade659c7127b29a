/** Helpers of the load test: GUI-like state mirrors, the Python client, RSS sampling. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { io, type Socket } from 'socket.io-client'

export type Polls = Record<string, Record<string, unknown>>

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resident set size of a process in bytes, read from /proc (no cooperation needed). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) * 1024
}

export const mb = (bytes: number) => Math.round(bytes / 1024 / 1024 * 10) / 10

/**
 * Applies the contract's events as the GUI does: initial_poll_data replaces the list,
 * new_poll_sent adds one, poll_update_to_gui replaces that poll's results and voters.
 */
export function applyGuiEvent(polls: Polls, event: string, payload: any): Polls {
  if (event === 'initial_poll_data') return structuredClone(payload)
  if (event === 'new_poll_sent') polls[payload.pollMsgId] = payload.pollData
  if (event === 'poll_update_to_gui') {
    const p = polls[payload.pollMsgId]
    if (!p) throw new Error(`poll_update_to_gui for unknown poll ${payload.pollMsgId}`)
    for (const k of ['results', 'voters', 'question', 'options', 'selectableCount']) p[k] = payload[k]
  }
  return polls
}

export interface Mirror {
  socket: Socket
  polls: Polls
  counts: Record<string, number>
  errors: string[]
  initial: Promise<void>
  close(): void
}

/** A socket.io-client connection holding the poll list like the GUI. */
export function mirrorClient(url: string, token?: string): Mirror {
  const socket = io(url, { transports: ['websocket'], reconnection: false, timeout: 20_000, ...(token ? { auth: { token } } : {}) })
  const m: Mirror = { socket, polls: {}, counts: {}, errors: [], initial: Promise.resolve(), close: () => { socket.close() } }
  m.initial = new Promise((resolve, reject) => {
    socket.once('initial_poll_data', () => resolve())
    socket.once('connect_error', (err) => reject(err))
  })
  socket.onAny((event: string, payload: unknown) => {
    m.counts[event] = (m.counts[event] ?? 0) + 1
    try { m.polls = applyGuiEvent(m.polls, event, payload) } catch (err) { m.errors.push(String(err)) }
  })
  socket.on('disconnect', (reason) => { if (reason !== 'io client disconnect') m.errors.push(`disconnected: ${reason}`) })
  return m
}

const PYTHON = '/usr/bin/python3'
const PY_CLIENT = fileURLToPath(new URL('./gui-state-client.py', import.meta.url))

/** The python-socketio client (the GUI's library), asked for its state over stdin/stdout. */
export async function pythonClient(url: string, token?: string) {
  const child: ChildProcess = spawn(PYTHON, [PY_CLIENT, url, ...(token ? [token] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
  let buf = ''
  let err = ''
  const waiters: Array<(line: string) => void> = []
  child.stderr!.on('data', (d) => { err += d })
  child.stdout!.on('data', (d) => {
    buf += d
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      waiters.shift()?.(line)
    }
  })
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  const nextLine = (ms: number) => new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`python client: no answer in ${ms} ms; stderr: ${err}`)), ms)
    waiters.push((line) => { clearTimeout(t); resolve(line) })
  })
  const ready = await nextLine(30_000)
  if (ready !== 'READY') throw new Error(`python client said ${ready}; stderr: ${err}`)
  return {
    pid: child.pid!,
    async state(): Promise<{ polls: Polls; events: Record<string, number> }> {
      const line = nextLine(30_000)
      child.stdin!.write('DUMP\n')
      const text = await line
      if (!text.startsWith('STATE ')) throw new Error(`python client: ${text}`)
      return JSON.parse(text.slice(6))
    },
    async quit(): Promise<number | null> {
      if (child.exitCode === null) child.stdin!.end('QUIT\n')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(t)
      return code
    },
    kill() { if (child.exitCode === null) child.kill('SIGKILL') },
  }
}

/** Which polls differ between a client's list and the truth, with a short reason each. */
export function differences(mine: Polls, truth: Polls): string[] {
  const out: string[] = []
  for (const id of new Set([...Object.keys(mine), ...Object.keys(truth)])) {
    const a = mine[id]
    const b = truth[id]
    if (!a || !b) { out.push(`${id}: ${a ? 'extra' : 'missing'}`); continue }
    if (isDeepStrictEqual(a, b)) continue
    const fields = Object.keys(b).filter((k) => !isDeepStrictEqual(a[k], b[k]))
    out.push(`${id}: ${fields.join(',')} differ`)
  }
  return out
}

/** Polls `probe` every `everyMs` until it answers a value, or gives up after `ms` with undefined. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms: number, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) return undefined
    await sleep(everyMs)
  }
}

/** fetch that retries once: a keep-alive socket the busy server closed is not a failure of the API. */
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { headers })
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
      return await res.json()
    } catch (err) {
      if (attempt >= 2) throw err
      await sleep(200)
    }
  }
}

/** The body, or undefined when the server does not answer (busy, or a closed keep-alive socket). */
export async function getText(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url)
    return res.ok ? await res.text() : undefined
  } catch {
    return undefined
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)}`)
  return json
}
