// @ts-check
import { accountPath, failureText } from './model.js'

const TOKEN_KEY = 'pollwire.apiToken'

/** The account the page shows; its API is under /accounts/<id> (`default`: the unprefixed paths). */
let account = 'default'

/** @param {string} id */
export function setAccount(id) { account = id }

export function currentAccount() { return account }

/**
 * An API path of the account the page shows (the server's global paths — webhooks, accounts —
 * are used as they are).
 * @param {string} path
 */
export function forAccount(path) {
  return accountPath(account, path)
}

/** A failed request, with the server's readable message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** @typedef {(wrong: boolean) => Promise<string | null>} TokenPrompt */

/** @type {TokenPrompt} */
let prompt = async () => null
/** @type {Promise<string | null> | null} */
let asking = null

/** @param {TokenPrompt} fn */
export function setTokenPrompt(fn) { prompt = fn }

/** The API token of this tab, when the server wanted one. */
export function currentToken() {
  return sessionStorage.getItem(TOKEN_KEY)
}

/**
 * Asks for the token once however many requests were refused together; a token the server
 * refused is forgotten first, so the prompt says so. Resolves null when the user cancels.
 * @param {string | null} refused the token that was refused, if any
 * @returns {Promise<string | null>}
 */
export function obtainToken(refused) {
  if (refused && currentToken() === refused) sessionStorage.removeItem(TOKEN_KEY)
  const known = currentToken()
  if (known) return Promise.resolve(known)
  asking ??= prompt(refused !== null).then((token) => {
    if (token) sessionStorage.setItem(TOKEN_KEY, token)
    return token
  }).finally(() => { asking = null })
  return asking
}

/**
 * fetch with the token; a 401 asks for it and retries.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
export async function request(path, init = {}) {
  for (;;) {
    const sent = currentToken()
    const headers = new Headers(init.headers)
    if (sent) headers.set('authorization', `Bearer ${sent}`)
    const res = await fetch(path, { ...init, headers, credentials: 'same-origin' })
    if (res.status !== 401) return res
    const token = await obtainToken(sent)
    if (!token) throw new ApiError(401, 'This server needs its API token.')
  }
}

/**
 * The JSON body of a successful answer, or an ApiError with the server's message.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<any>}
 */
export async function getJson(path, init) {
  const res = await request(path, init)
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, failureText(body, res.status))
  return body
}

/**
 * @param {string} path
 * @param {unknown} body
 */
export function postJson(path, body) {
  return getJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** @param {unknown} err */
export function errorText(err) {
  if (err instanceof ApiError) return err.message
  if (err instanceof TypeError) return 'The server cannot be reached. Is pollwire running?'
  return err instanceof Error ? err.message : String(err)
}

/**
 * Saves what a GET answers as a file. A plain link could not carry the API token; a blob URL
 * can be saved all the same.
 * @param {string} path
 * @param {string} filename
 */
export async function download(path, filename) {
  const res = await request(path)
  if (!res.ok) throw new ApiError(res.status, failureText(await res.json().catch(() => null), res.status))
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
