// @ts-check
import { errorText, getJson, postJson } from './api.js'
import { byId, formatTime, h } from './dom.js'
import { EVENT_CHOICES, endpointRequest, endpointRows, failedRows } from './webhooks-model.js'

/** @typedef {import('./webhooks-model.js').Endpoint} Endpoint */
/** @typedef {import('./webhooks-model.js').Delivery} Delivery */

/** How often the panel asks for fresh health and failures while the tab is visible. */
const REFRESH_MS = 5000
/** failed deliveries shown at most */
const FAILED_SHOWN = 20

/**
 * The webhooks panel: endpoints with their health, the add form (the secret is shown once),
 * removal of endpoints added here, and the failed deliveries with a Retry button each.
 */
export function createWebhooksPanel() {
  const list = byId('webhook-endpoints', HTMLUListElement)
  const empty = byId('webhooks-empty', HTMLElement)
  const loadError = byId('webhooks-load-error', HTMLElement)
  const refresh = byId('webhooks-refresh', HTMLButtonElement)
  const form = byId('webhook-form', HTMLFormElement)
  const url = byId('webhook-url', HTMLInputElement)
  const events = byId('webhook-events', HTMLElement)
  const add = byId('webhook-add', HTMLButtonElement)
  const formError = byId('webhook-error', HTMLElement)
  const secretBox = byId('webhook-secret', HTMLElement)
  const secretFor = byId('webhook-secret-for', HTMLElement)
  const secretValue = byId('webhook-secret-value', HTMLInputElement)
  const copy = byId('webhook-secret-copy', HTMLButtonElement)
  const copied = byId('webhook-secret-copied', HTMLElement)
  const secretDone = byId('webhook-secret-done', HTMLButtonElement)
  const failedList = byId('webhook-failed', HTMLElement)
  const failedEmpty = byId('webhook-failed-empty', HTMLElement)

  events.replaceChildren(...EVENT_CHOICES.map(({ type, label }) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'event', value: type }), h('code', {}, type), ` ${label}`)))

  /** @type {Endpoint[]} */
  let endpoints = []
  let loading = false
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null

  async function load() {
    if (loading) return
    loading = true
    refresh.disabled = true
    try {
      /** @type {[{ endpoints: Endpoint[] }, { deliveries: Delivery[] }]} */
      const [eps, failed] = await Promise.all([
        getJson('/webhooks'),
        getJson(`/webhooks/deliveries?status=failed&limit=${FAILED_SHOWN}`),
      ])
      endpoints = eps.endpoints
      loadError.textContent = ''
      showEndpoints()
      showFailed(failed.deliveries)
    } catch (err) {
      loadError.textContent = `Could not load the webhooks: ${errorText(err)}`
    } finally {
      loading = false
      refresh.disabled = false
    }
  }

  function showEndpoints() {
    const now = Date.now()
    const rows = endpointRows(endpoints, now)
    empty.hidden = rows.length > 0
    list.replaceChildren(...rows.map((row) => {
      const remove = row.removable ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${row.url}` }, 'Remove') : null
      remove?.addEventListener('click', () => void removeEndpoint(row.id, row.url, remove))
      return h('li', { class: `endpoint endpoint-${row.health}`, 'data-endpoint-id': row.id, 'data-source': row.removable ? 'api' : 'env', 'data-health': row.health },
        h('p', { class: 'endpoint-head' },
          h('code', { class: 'endpoint-url' }, row.url),
          h('span', { class: 'badge' }, row.source),
          remove),
        h('p', { class: 'hint endpoint-events' }, `Events: ${row.events}`),
        h('p', { class: 'endpoint-health', role: 'status' }, row.summary),
        row.error ? h('p', { class: 'error endpoint-error', title: row.fullError }, `Last error: ${row.error}`) : null)
    }))
  }

  /** @param {Delivery[]} deliveries */
  function showFailed(deliveries) {
    const rows = failedRows(deliveries, endpoints, Date.now())
    failedEmpty.hidden = rows.length > 0
    failedList.replaceChildren(rows.length ? h('table', { class: 'failed' },
      h('caption', { class: 'sr-only' }, 'Failed deliveries, newest first'),
      h('thead', {}, h('tr', {}, ...['Event', 'Endpoint', 'Attempts', 'Last error', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((row) => {
        const retry = h('button', { type: 'button', class: 'secondary', 'aria-label': `Retry ${row.type} to ${row.endpoint}` }, 'Retry')
        retry.addEventListener('click', () => void retryDelivery(row.id, retry))
        return h('tr', { 'data-delivery-id': row.id, 'data-event-id': row.eventId },
          h('td', {}, h('code', {}, row.type)),
          h('td', {}, row.endpoint),
          h('td', {}, row.attempts),
          h('td', { title: row.fullError }, row.error),
          h('td', { title: formatTime(deliveries.find((d) => d.id === row.id)?.createdAt ?? 0) }, row.when),
          h('td', {}, retry))
      }))) : '')
  }

  /** @param {string} id @param {string} where @param {HTMLButtonElement} button */
  async function removeEndpoint(id, where, button) {
    if (!window.confirm(`Stop sending events to ${where}? Its pending deliveries are dropped.`)) return
    button.disabled = true
    try {
      await getJson(`/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE' })
      await load()
    } catch (err) {
      button.disabled = false
      loadError.textContent = `Could not remove the endpoint: ${errorText(err)}`
    }
  }

  /** @param {string} id @param {HTMLButtonElement} button */
  async function retryDelivery(id, button) {
    button.disabled = true
    button.textContent = 'Retrying…'
    try {
      await postJson(`/webhooks/deliveries/${encodeURIComponent(id)}/retry`, {})
      // Sent at once; its outcome shows at the next look (it leaves this list when delivered).
      setTimeout(() => void load(), 800)
    } catch (err) {
      button.disabled = false
      button.textContent = 'Retry'
      loadError.textContent = `Could not retry the delivery: ${errorText(err)}`
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    formError.textContent = ''
    const checked = endpointRequest({
      url: url.value,
      events: [...events.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value),
    })
    if (!checked.ok) {
      formError.textContent = checked.message
      url.focus()
      return
    }
    add.disabled = true
    try {
      /** @type {{ endpoint: Endpoint, secret: string }} */
      const res = await postJson('/webhooks', checked.body)
      // The only time the server shows it: the receiver needs it to verify signatures.
      secretFor.textContent = res.endpoint.url
      secretValue.value = res.secret
      copied.textContent = ''
      secretBox.hidden = false
      secretValue.focus()
      secretValue.select()
      form.reset()
      await load()
    } catch (err) {
      formError.textContent = `The endpoint was not added: ${errorText(err)}`
    } finally {
      add.disabled = false
    }
  })

  copy.addEventListener('click', async () => {
    secretValue.select()
    try {
      await navigator.clipboard.writeText(secretValue.value)
      copied.textContent = 'Copied.'
    } catch {
      copied.textContent = 'Selected: press Ctrl+C (⌘C) to copy.'
    }
  })

  // Forgotten when dismissed: the page never shows it again, as the server never does.
  secretDone.addEventListener('click', () => {
    secretValue.value = ''
    secretFor.textContent = ''
    copied.textContent = ''
    secretBox.hidden = true
  })

  refresh.addEventListener('click', () => void load())

  return {
    /** Loads now and keeps the panel fresh while the tab is visible. */
    start() {
      void load()
      timer ??= setInterval(() => { if (document.visibilityState === 'visible') void load() }, REFRESH_MS)
    },
    load,
  }
}
