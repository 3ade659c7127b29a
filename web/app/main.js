// @ts-check
import { io } from '../vendor/socket.io.esm.min.js'
import { currentAccount, currentToken, errorText, forAccount, getJson, obtainToken, postJson, request, setAccount, setTokenPrompt } from './api.js'
import { createAccountsPanel } from './accounts.js'
import { createCampaignsPanel } from './campaigns.js'
import { campaignLimitsFrom } from './campaigns-model.js'
import { createComposer } from './compose.js'
import { byId } from './dom.js'
import { accountFromSearch, accountIdRule, accountNamespace, displayJid, limitsFrom, statusText } from './model.js'
import { createPollList } from './polls.js'
import { createWebhooksPanel } from './webhooks.js'

/** @typedef {import('./model.js').Poll} Poll */
/** @typedef {import('./model.js').Chat} Chat */

const ui = {
  state: byId('state', HTMLElement),
  user: byId('user', HTMLElement),
  logout: byId('logout', HTMLButtonElement),
  link: byId('link', HTMLElement),
  qr: byId('qr', HTMLImageElement),
  qrCaption: byId('qr-caption', HTMLElement),
  pairingForm: byId('pairing-form', HTMLFormElement),
  phone: byId('phone', HTMLInputElement),
  pairingError: byId('pairing-error', HTMLElement),
  pairingResult: byId('pairing-result', HTMLElement),
  pairingCode: byId('pairing-code', HTMLOutputElement),
  compose: byId('compose', HTMLElement),
  tokenDialog: byId('token-dialog', HTMLDialogElement),
  tokenForm: byId('token-form', HTMLFormElement),
  token: byId('token', HTMLInputElement),
  tokenError: byId('token-error', HTMLElement),
}

/** @type {Map<string, Chat>} */
const chats = new Map()
const pollList = createPollList({
  list: byId('polls', HTMLUListElement),
  empty: byId('polls-empty', HTMLElement),
  chatName: (id) => chats.get(id)?.name || displayJid(id),
  // A voter's 1:1 chat carries their contact or push name, when WhatsApp sent it.
  personName: (jid) => chats.get(jid.replace(/:\d+@/, '@'))?.name || undefined,
})
// The form's limits and the account id rule are the server's own, from its API description (public, no token needed).
const description = await (await fetch('/openapi.json')).json()
const limits = limitsFrom(description)
const accountRule = accountIdRule(description)
const campaigns = createCampaignsPanel({ limits, campaignLimits: campaignLimitsFrom(description), refreshChats: () => void composer.loadChats() })
const composer = createComposer({
  limits,
  onChats(list) {
    chats.clear()
    for (const c of list) chats.set(c.id, c)
    pollList.refreshNames()
    campaigns.setChats(list)
  },
})

const webhooks = createWebhooksPanel()
const accounts = createAccountsPanel({ rule: accountRule, selected: currentAccount, onSelect: (id) => void showAccount(id) })

setTokenPrompt((wrong) => new Promise((resolve) => {
  ui.tokenError.textContent = wrong ? 'The server refused that token. Try again.' : ''
  ui.token.value = ''
  const done = (/** @type {string | null} */ value) => {
    ui.tokenForm.removeEventListener('submit', submit)
    ui.tokenDialog.removeEventListener('cancel', cancel)
    ui.tokenDialog.close()
    resolve(value)
  }
  const submit = (/** @type {SubmitEvent} */ e) => {
    e.preventDefault()
    const value = ui.token.value.trim()
    if (value) done(value)
  }
  const cancel = () => done(null)
  ui.tokenForm.addEventListener('submit', submit)
  ui.tokenDialog.addEventListener('cancel', cancel)
  ui.tokenDialog.showModal()
  ui.token.focus()
}))

// --- connection state

let status = 'unknown'
/** @param {string} next */
function showStatus(next) {
  status = next
  ui.state.dataset.state = next
  ui.state.textContent = statusText(next)
  const ready = next === 'ready'
  ui.link.hidden = ready || next === 'offline' || next === 'unknown'
  ui.compose.hidden = !ready
  // Also offered while disconnected: a link stuck on a dead session is undone by logging out.
  ui.logout.hidden = !(ready || next === 'disconnected')
  if (!ready) ui.user.hidden = true
  if (next !== 'qr_pending') hideQr(ready ? '' : 'Waiting for a QR code from WhatsApp…')
  if (ready) { ui.pairingResult.hidden = true; void composer.loadChats() }
  if (next !== 'offline' && next !== 'unknown') accounts.setStatus(currentAccount(), next)
}

/** @param {{ id: string, name?: string }} user */
function showUser(user) {
  const number = displayJid(user.id)
  ui.user.textContent = user.name ? `Linked as ${user.name} (${number})` : `Linked as ${number}`
  ui.user.hidden = false
  accounts.setStatus(currentAccount(), 'ready', { id: user.id, name: user.name ?? '' })
}

// --- QR: the server draws it (qrcode on the server), the page shows it and keeps the text

let qrSeq = 0
/** the QR shown or being drawn: the same one again (GET /status, then the socket's qr_code) is not fetched twice */
let qrText = ''
/** @param {string} text */
async function showQr(text) {
  // A second fetch of the same QR could come after the phone scanned it: a 404 for nothing.
  if (text === qrText) return
  qrText = text
  const seq = ++qrSeq
  ui.qrCaption.textContent = 'Scan this code with WhatsApp. It changes every 20 seconds or so.'
  try {
    const res = await request(forAccount('/status/qr.svg'))
    if (!res.ok) throw new Error(`the server answered ${res.status}`)
    const svg = await res.text()
    if (seq !== qrSeq) return
    // A data: URL: the CSP allows images from data: but not from blob:.
    ui.qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
    ui.qr.hidden = false
  } catch (err) {
    if (seq !== qrSeq) return
    qrText = ''
    ui.qr.hidden = true
    ui.qrCaption.textContent = `Could not draw the QR code: ${errorText(err)}`
  }
  // The text the image encodes, for tests and for copying into another scanner.
  ui.qr.dataset.qr = text
}

/** @param {string} caption */
function hideQr(caption) {
  qrSeq++
  qrText = ''
  ui.qr.hidden = true
  ui.qr.removeAttribute('src')
  delete ui.qr.dataset.qr
  ui.qrCaption.textContent = caption
}

// --- pairing code

ui.pairingForm.addEventListener('submit', async (e) => {
  e.preventDefault()
  ui.pairingError.textContent = ''
  ui.pairingResult.hidden = true
  const phoneNumber = ui.phone.value.replace(/[\s+()-]/g, '')
  if (!/^[0-9]{6,15}$/.test(phoneNumber)) {
    ui.pairingError.textContent = 'Enter the full international number, digits only, e.g. 15551234567.'
    ui.phone.focus()
    return
  }
  const button = ui.pairingForm.querySelector('button')
  if (button) button.disabled = true
  try {
    /** @type {{ code: string }} */
    const { code } = await postJson(forAccount('/pairing-code'), { phoneNumber })
    ui.pairingCode.value = code
    ui.pairingResult.hidden = false
  } catch (err) {
    ui.pairingError.textContent = errorText(err)
  } finally {
    if (button) button.disabled = false
  }
})

// --- logout

ui.logout.addEventListener('click', async () => {
  const which = currentAccount() === 'default' ? '' : ` (account ${currentAccount()})`
  if (!window.confirm(`Log out of WhatsApp${which}? This unlinks the device; you will need to scan a new QR code.`)) return
  ui.logout.disabled = true
  try {
    await postJson(forAccount('/logout'), {})
  } catch (err) {
    window.alert(`Logout failed: ${errorText(err)}`)
  } finally {
    ui.logout.disabled = false
  }
})

// --- the account shown: HTTP first (it asks for the token if the server wants one), then its live events

/** @type {import('../vendor/socket.io.esm.min.js').Socket | null} */
let socket = null
/** bumped on each switch: answers for an account no longer shown are dropped */
let shown = 0

/**
 * Shows one account: its state and QR, its chats and polls, its namespace's live events
 * (`default`: the unprefixed paths and the default namespace, as the GUI uses them).
 * @param {string} id
 */
async function showAccount(id) {
  const turn = ++shown
  setAccount(id)
  history.replaceState(null, '', id === 'default' ? location.pathname : `${location.pathname}?account=${encodeURIComponent(id)}`)
  socket?.disconnect()
  socket = null
  chats.clear()
  composer.clear()
  campaigns.clear()
  pollList.reset({})
  ui.pairingError.textContent = ''
  ui.pairingResult.hidden = true
  ui.user.hidden = true
  showStatus('unknown')
  ui.state.textContent = 'Loading the account…'
  accounts.show()
  try {
    /** @type {{ status: string, qrCode: string | null, user: { id: string, name: string } | null }} */
    const s = await getJson(forAccount('/status'))
    if (turn !== shown) return
    showStatus(s.status)
    if (s.user) showUser(s.user)
    if (s.qrCode) void showQr(s.qrCode)
  } catch (err) {
    if (turn !== shown) return
    ui.state.textContent = `Cannot load the status: ${errorText(err)}`
  }
  if (turn !== shown) return
  void campaigns.load()
  socket = listen(id)
}

/**
 * The live events of one account's namespace; each handler does nothing once another account is shown.
 * @param {string} id
 */
function listen(id) {
  const s = io(accountNamespace(id), {
    // A function, so a reconnect after a new token was typed sends the new one.
    auth: (cb) => cb({ token: currentToken() ?? '' }),
  })
  const live = () => socket === s
  s.on('connect_error', async (err) => {
    if (!live()) return
    if (/unauthorized/i.test(err.message)) {
      const token = await obtainToken(currentToken())
      if (token) s.connect()
      else ui.state.textContent = 'Live updates need the API token. Reload the page to enter it.'
      return
    }
    showStatus('offline')
  })
  s.on('disconnect', (reason) => {
    if (!live()) return
    showStatus('offline')
    // The server cut this namespace: the account was removed (here or elsewhere).
    if (reason === 'io server disconnect') void accounts.refresh()
  })
  s.on('client_status', (/** @type {string} */ st) => { if (live()) showStatus(st) })
  s.on('whatsapp_user', (/** @type {{ id: string, name: string }} */ u) => { if (live() && status === 'ready') showUser(u) })
  s.on('qr_code', (/** @type {string} */ qr) => { if (live()) { showStatus('qr_pending'); void showQr(qr) } })
  s.on('initial_poll_data', (/** @type {Record<string, Poll>} */ polls) => { if (live()) pollList.reset(polls) })
  s.on('new_poll_sent', (/** @type {{ pollMsgId: string, pollData: Poll }} */ p) => { if (live()) pollList.upsert(p.pollMsgId, p.pollData) })
  s.on('poll_update_to_gui', (/** @type {import('./model.js').PollUpdate} */ u) => { if (live()) void pollList.update(u) })
  s.on('campaign_update', (/** @type {import('./campaigns-model.js').CampaignUpdate} */ u) => { if (live()) campaigns.update(u) })
  // Updates missed while the socket was down: the list as it is now (the first connect follows the page's own load).
  let connectedBefore = false
  s.on('connect', () => {
    if (live() && connectedBefore) void campaigns.load()
    connectedBefore = true
  })
  return s
}

async function start() {
  await showAccount(accountFromSearch(location.search, accountRule))
  // After the status: a token the server wants has been asked for by now, once.
  webhooks.start()
  accounts.start()
}

void start()
