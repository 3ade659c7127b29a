// @ts-check
import { errorText, getJson, postJson } from './api.js'
import { byId, h } from './dom.js'
import { accountIdProblem, accountLabel, accountStateText } from './model.js'

/** @typedef {import('./model.js').AccountSummary} AccountSummary */

/** How often the list asks for every account's state while the tab is visible. */
const REFRESH_MS = 5000

/**
 * The account switcher (in the header) and the accounts panel: every account with its state,
 * a form that adds one (then shows it, with its QR), and removal of the others.
 * @param {{ rule: RegExp, selected: () => string, onSelect: (id: string) => void }} deps
 */
export function createAccountsPanel({ rule, selected, onSelect }) {
  const select = byId('account-select', HTMLSelectElement)
  const list = byId('account-list', HTMLUListElement)
  const loadError = byId('accounts-load-error', HTMLElement)
  const form = byId('account-form', HTMLFormElement)
  const input = byId('account-id', HTMLInputElement)
  const add = byId('account-add', HTMLButtonElement)
  const formError = byId('account-error', HTMLElement)
  const purge = byId('account-purge', HTMLInputElement)

  /** @type {AccountSummary[]} */
  let accounts = [{ id: 'default', status: 'unknown', user: null }]
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null

  function show() {
    const current = selected()
    // The shown account is listed even before the server's list says so (a fresh page).
    const all = accounts.some((a) => a.id === current) ? accounts : [...accounts, { id: current, status: 'unknown', user: null }]
    select.replaceChildren(...all.map((a) => new Option(accountLabel(a), a.id, false, a.id === current)))
    list.replaceChildren(...all.map((a) => {
      const remove = a.id === 'default'
        ? null
        : h('button', { type: 'button', class: 'secondary', 'data-account': a.id, 'aria-label': `Remove account ${a.id}` }, 'Remove')
      remove?.addEventListener('click', () => void removeAccount(a.id))
      const pick = h('button', { type: 'button', class: 'link', 'data-account': a.id, 'aria-current': a.id === current ? 'true' : null }, a.id)
      pick.addEventListener('click', () => { if (a.id !== selected()) onSelect(a.id) })
      return h('li', { 'data-account': a.id, 'data-state': a.status },
        pick, ' ', h('span', { class: 'account-state' }, accountStateText(a)), remove ? ' ' : null, remove)
    }))
  }

  async function load() {
    try {
      /** @type {{ accounts: AccountSummary[] }} */
      const body = await getJson('/accounts')
      accounts = body.accounts
      loadError.textContent = ''
      // The shown account was removed (here or elsewhere): back to default.
      if (!accounts.some((a) => a.id === selected())) onSelect('default')
      show()
    } catch (err) {
      loadError.textContent = `Could not load the accounts: ${errorText(err)}`
    }
  }

  /** @param {string} id */
  async function removeAccount(id) {
    const withData = purge.checked
    const what = withData ? 'Its polls and votes are deleted too.' : 'Its polls and votes are kept (added again with the same name, they come back).'
    if (!window.confirm(`Remove account ${id}? Its device is logged out of WhatsApp. ${what}`)) return
    try {
      await getJson(`/accounts/${encodeURIComponent(id)}${withData ? '?purge=true' : ''}`, { method: 'DELETE' })
    } catch (err) {
      window.alert(`Could not remove ${id}: ${errorText(err)}`)
    }
    if (id === selected()) onSelect('default')
    await load()
  }

  select.addEventListener('change', () => onSelect(select.value))

  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    formError.textContent = ''
    const id = input.value.trim()
    const problem = accountIdProblem(id, rule, accounts.map((a) => a.id))
    if (problem) { formError.textContent = problem; input.focus(); return }
    add.disabled = true
    try {
      await postJson('/accounts', { id })
      input.value = ''
      await load()
      // The new account is shown at once, with its QR as soon as WhatsApp sends one.
      onSelect(id)
    } catch (err) {
      formError.textContent = `The account was not added: ${errorText(err)}`
    } finally {
      add.disabled = false
    }
  })

  return {
    start() {
      void load()
      timer ??= setInterval(() => { if (document.visibilityState === 'visible') void load() }, REFRESH_MS)
    },
    refresh: load,
    /** the state of the shown account, as its live events report it */
    /** @param {string} id @param {string} status @param {AccountSummary['user']} [user] */
    setStatus(id, status, user) {
      const a = accounts.find((x) => x.id === id)
      if (!a) return
      a.status = status
      if (user !== undefined) a.user = user
      if (status !== 'ready') a.user = null
      show()
    },
    show,
  }
}
