// @ts-check
import { download, errorText, forAccount, getJson, postJson } from './api.js'
import { byId, formatTime, h } from './dom.js'
import {
  applyCampaignUpdate, campaignActions, campaignRequest, campaignResultRows, campaignStatusText, keepLiveFigures, msToSeconds, perChatRows,
  pickerRows, progressOf, selectedChatIds, selectionText, selectShown,
} from './campaigns-model.js'
import { filterChats } from './model.js'
import { createOptionRows } from './options.js'
import { flash, resultBars } from './polls.js'

/** @typedef {import('./campaigns-model.js').CampaignSummary} CampaignSummary */
/** @typedef {import('./campaigns-model.js').CampaignView} CampaignView */
/** @typedef {import('./campaigns-model.js').CampaignUpdate} CampaignUpdate */
/** @typedef {import('./campaigns-model.js').CampaignLimits} CampaignLimits */
/** @typedef {import('./model.js').Chat} Chat */

/** The per-chat part of the open campaign is fetched again at most this often while updates come. */
const DETAIL_EVERY_MS = 1000

/** @type {Record<'pause' | 'resume' | 'cancel', string>} */
const ACTION_TEXT = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' }

/**
 * @typedef {object} Item
 * @property {HTMLLIElement} root
 * @property {HTMLButtonElement} title
 * @property {HTMLElement} status
 * @property {HTMLProgressElement} bar
 * @property {HTMLElement} text
 * @property {HTMLElement} actions
 * @property {string} shownStatus the status the buttons were made for
 */

/**
 * The campaigns panel: a form that sends one poll to many chats (picked by search and
 * checkboxes), the account's campaigns with their progress and pause / resume / cancel, and the
 * open campaign's combined result, voters and per-chat tallies, live from `campaign_update`.
 * @param {{ limits: import('./model.js').Limits, campaignLimits: CampaignLimits, refreshChats: () => void }} deps
 */
export function createCampaignsPanel({ limits, campaignLimits, refreshChats }) {
  const list = byId('campaign-list', HTMLUListElement)
  const empty = byId('campaigns-empty', HTMLElement)
  const listError = byId('campaigns-error', HTMLElement)
  const refresh = byId('campaigns-refresh', HTMLButtonElement)

  const detailBox = byId('campaign-detail', HTMLElement)
  const detailQuestion = byId('campaign-detail-question', HTMLElement)
  const detailMeta = byId('campaign-detail-meta', HTMLElement)
  const detailBar = byId('campaign-detail-progress', HTMLProgressElement)
  const detailBars = byId('campaign-bars', HTMLUListElement)
  const detailVoters = byId('campaign-voters', HTMLElement)
  const detailChats = byId('campaign-chat-table', HTMLElement)
  const csv = byId('campaign-csv', HTMLAnchorElement)
  const detailError = byId('campaign-detail-error', HTMLElement)

  const form = byId('campaign-form', HTMLFormElement)
  const filter = byId('campaign-chat-filter', HTMLInputElement)
  const picker = byId('campaign-chats', HTMLUListElement)
  const count = byId('campaign-chat-count', HTMLElement)
  const selectAll = byId('campaign-select-shown', HTMLButtonElement)
  const clearAll = byId('campaign-clear', HTMLButtonElement)
  const chatsRefresh = byId('campaign-chats-refresh', HTMLButtonElement)
  const question = byId('campaign-question', HTMLInputElement)
  const optionRows = createOptionRows({ list: byId('campaign-options', HTMLOListElement), add: byId('campaign-add-option', HTMLButtonElement), limits })
  const multi = byId('campaign-multi', HTMLInputElement)
  const delayMin = byId('campaign-delay-min', HTMLInputElement)
  const delayMax = byId('campaign-delay-max', HTMLInputElement)
  const create = byId('campaign-create', HTMLButtonElement)
  const formError = byId('campaign-error', HTMLElement)
  const formOk = byId('campaign-ok', HTMLElement)

  question.maxLength = limits.question
  delayMin.max = delayMax.max = String(campaignLimits.delayMaxMs / 1000)

  /** @type {Chat[]} */
  let chats = []
  /** @type {Set<string>} */
  let selected = new Set()
  /** newest first, as the server lists them */
  /** @type {CampaignSummary[]} */
  let campaigns = []
  /** @type {Map<string, Item>} */
  const items = new Map()
  /** @type {CampaignView | null} */
  let detail = null
  /** @type {string | null} */
  let detailId = null
  /** bumped when the account or the open campaign changes: answers for an older one are dropped */
  let turn = 0
  let detailSeq = 0
  let lastDetailFetch = 0
  /** @type {ReturnType<typeof setTimeout> | null} */
  let detailTimer = null
  /** @type {Promise<void> | null} */
  let listing = null
  let again = false
  /** a counter of live changes, and the last one of each campaign: answers requested before it may be older */
  let clock = 0
  /** @type {Map<string, number>} */
  const changedAt = new Map()
  /** @param {string} id @param {number} asked the clock when the request went out */
  const changedSince = (id, asked) => (changedAt.get(id) ?? 0) > asked

  // --- picking chats

  function showPicker() {
    const rows = pickerRows(chats, filter.value, selected)
    picker.replaceChildren(...rows.map((r) => {
      const box = h('input', { type: 'checkbox', value: r.id, name: 'chatIds' })
      box.checked = r.checked
      return h('li', { 'data-chat-id': r.id }, h('label', { class: 'check' }, box, r.label))
    }))
    showCount(rows.length, rows.filter((r) => r.checked).length)
  }

  /** @param {number} shown @param {number} selectedShown */
  function showCount(shown, selectedShown) {
    count.textContent = selectionText({ selected: selected.size, selectedShown, shown, total: chats.length, max: campaignLimits.chats })
    count.dataset.selected = String(selected.size)
  }

  picker.addEventListener('change', (e) => {
    const box = e.target
    if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return
    if (box.checked) selected.add(box.value)
    else selected.delete(box.value)
    const shown = filterChats(chats, filter.value)
    showCount(shown.length, shown.filter((c) => selected.has(c.id)).length)
  })
  filter.addEventListener('input', showPicker)
  selectAll.addEventListener('click', () => { selected = selectShown(selected, chats, filter.value); showPicker() })
  clearAll.addEventListener('click', () => { selected = new Set(); showPicker() })
  chatsRefresh.addEventListener('click', () => refreshChats())

  // --- the form

  function resetDelays() {
    delayMin.value = msToSeconds(campaignLimits.defaultDelayMs.min)
    delayMax.value = msToSeconds(campaignLimits.defaultDelayMs.max)
  }

  form.addEventListener('input', () => { formOk.textContent = '' })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    formError.textContent = ''
    formOk.textContent = ''
    const checked = campaignRequest({
      chatIds: selectedChatIds(chats, selected), question: question.value, options: optionRows.values(), multi: multi.checked,
      delayMin: delayMin.value, delayMax: delayMax.value,
    })
    if (!checked.ok) {
      formError.textContent = checked.message
      const target = checked.field === 'chats' ? filter : checked.field === 'delayMin' ? delayMin : delayMax
      target.focus()
      return
    }
    const asked = turn
    create.disabled = true
    try {
      /** @type {{ campaignId: string, total: number }} */
      const res = await postJson(forAccount('/campaigns'), checked.body)
      if (asked !== turn) return
      question.value = ''
      multi.checked = false
      optionRows.reset()
      selected = new Set()
      showPicker()
      await load()
      if (asked !== turn) return
      open(res.campaignId)
      formOk.textContent = `Campaign started: ${res.total} ${res.total === 1 ? 'chat' : 'chats'}, one poll each.`
    } catch (err) {
      // The server's 400 names the field and says what is wrong: shown as it is.
      if (asked === turn) formError.textContent = errorText(err)
    } finally {
      create.disabled = false
    }
  })

  // --- the list

  /**
   * Loads the list. A call while a load is under way runs one more after it (what changed
   * meanwhile may not be in the answer on its way), and resolves when that one is done.
   * @returns {Promise<void>}
   */
  function load() {
    if (listing) { again = true; return listing }
    refresh.disabled = true
    listing = (async () => {
      do {
        again = false
        await loadOnce()
      } while (again)
    })().finally(() => {
      listing = null
      refresh.disabled = false
    })
    return listing
  }

  async function loadOnce() {
    const asked = turn
    const at = clock
    try {
      /** @type {{ campaigns: CampaignSummary[] }} */
      const body = await getJson(forAccount('/campaigns'))
      if (asked !== turn) return
      const held = new Map(campaigns.map((c) => [c.id, c]))
      campaigns = body.campaigns.map((c) => keepLiveFigures(c, held.get(c.id), changedSince(c.id, at)))
      listError.textContent = ''
      showList()
    } catch (err) {
      if (asked === turn) listError.textContent = `Could not load the campaigns: ${errorText(err)}`
    }
  }

  function showList() {
    for (const id of [...items.keys()]) if (!campaigns.some((c) => c.id === id)) items.delete(id)
    for (const c of campaigns) fillItem(itemOf(c.id), c)
    list.replaceChildren(...campaigns.map((c) => itemOf(c.id).root))
    empty.hidden = campaigns.length > 0
  }

  /** @param {string} id @returns {Item} */
  function itemOf(id) {
    let item = items.get(id)
    if (item) return item
    const title = h('button', { type: 'button', class: 'link campaign-title' })
    title.addEventListener('click', () => open(id))
    const status = h('span', { class: 'badge campaign-status' })
    const bar = h('progress', { class: 'campaign-progress', max: 1, value: 0 })
    const text = h('p', { class: 'hint campaign-progress-text' })
    const actions = h('p', { class: 'actions campaign-actions' })
    const root = h('li', { class: 'campaign', 'data-campaign-id': id }, h('p', { class: 'campaign-head' }, title, ' ', status), bar, text, actions)
    item = { root, title, status, bar, text, actions, shownStatus: '' }
    items.set(id, item)
    return item
  }

  /** @param {Item} item @param {CampaignSummary} c */
  function fillItem(item, c) {
    const p = progressOf(c)
    item.title.textContent = c.question
    item.title.setAttribute('aria-current', c.id === detailId ? 'true' : 'false')
    item.status.textContent = campaignStatusText(c.status)
    item.root.dataset.status = c.status
    item.root.dataset.sent = String(c.sent)
    item.root.dataset.failed = String(c.failed)
    item.root.dataset.total = String(c.total)
    item.bar.max = Math.max(1, p.total)
    item.bar.value = p.done
    item.bar.setAttribute('aria-label', `Progress of "${c.question}": ${p.percent}%`)
    item.text.textContent = `${p.text} · ${c.voters} ${c.voters === 1 ? 'voter' : 'voters'} · started ${formatTime(c.createdAt)}`
    if (item.shownStatus !== c.status) {
      item.shownStatus = c.status
      item.actions.replaceChildren(...campaignActions(c.status).map((action) => {
        const b = h('button', { type: 'button', class: action === 'cancel' ? 'secondary' : null, 'data-action': action, 'aria-label': `${ACTION_TEXT[action]} "${c.question}"` }, ACTION_TEXT[action])
        b.addEventListener('click', () => void act(c.id, action, b))
        return b
      }))
    }
  }

  /**
   * @param {string} id
   * @param {'pause' | 'resume' | 'cancel'} action
   * @param {HTMLButtonElement} button
   */
  async function act(id, action, button) {
    if (action === 'cancel' && !window.confirm('Cancel this campaign? The chats not sent yet never get the poll; this cannot be undone.')) return
    const asked = turn
    button.disabled = true
    listError.textContent = ''
    try {
      /** @type {{ status: CampaignSummary['status'] }} */
      const res = await postJson(forAccount(`/campaigns/${encodeURIComponent(id)}/${action}`), {})
      if (asked !== turn) return
      changedAt.set(id, ++clock)
      const c = campaigns.find((x) => x.id === id)
      if (c) { c.status = res.status; fillItem(itemOf(id), c) }
      if (detail && detail.id === id) { detail = { ...detail, status: res.status }; showDetail(); scheduleDetail() }
    } catch (err) {
      if (asked !== turn) return
      button.disabled = false
      listError.textContent = `Could not ${action} the campaign: ${errorText(err)}`
      void load()
    }
  }

  refresh.addEventListener('click', () => { void load(); if (detailId) void loadDetail() })

  // --- the open campaign

  /** @param {string} id */
  function open(id) {
    if (detailTimer) { clearTimeout(detailTimer); detailTimer = null }
    detailId = id
    detail = null
    detailError.textContent = ''
    for (const c of campaigns) { const item = items.get(c.id); if (item) fillItem(item, c) }
    void loadDetail()
  }

  async function loadDetail() {
    const id = detailId
    if (!id) return
    const asked = turn
    const seq = ++detailSeq
    const at = clock
    lastDetailFetch = Date.now()
    try {
      /** @type {{ campaign: CampaignView }} */
      const { campaign } = await getJson(forAccount(`/campaigns/${encodeURIComponent(id)}`))
      // Another account or campaign was chosen meanwhile, or a newer answer is on its way.
      if (asked !== turn || id !== detailId || seq !== detailSeq) return
      const c = campaigns.findIndex((x) => x.id === id)
      detail = keepLiveFigures(campaign, detail ?? campaigns[c], changedSince(id, at))
      detailError.textContent = ''
      showDetail()
      if (c >= 0) {
        const { chats: _c, perChat: _p, ...summary } = detail
        campaigns[c] = summary
        fillItem(itemOf(id), summary)
      }
    } catch (err) {
      if (asked === turn && id === detailId) detailError.textContent = `Could not load the campaign: ${errorText(err)}`
    }
  }

  /** Fetches the open campaign again, at most once a second however many updates come. */
  function scheduleDetail() {
    if (detailTimer) return
    const wait = Math.max(0, lastDetailFetch + DETAIL_EVERY_MS - Date.now())
    detailTimer = setTimeout(() => { detailTimer = null; void loadDetail() }, wait)
  }

  function showDetail() {
    if (!detail) { detailBox.hidden = true; return }
    const k = detail
    const p = progressOf(k)
    detailBox.hidden = false
    detailBox.dataset.campaignId = k.id
    detailBox.dataset.status = k.status
    detailQuestion.textContent = k.question
    detailMeta.textContent = `${campaignStatusText(k.status)} · ${p.text} · ${k.selectableCount === 1 ? 'one answer' : 'multiple answers'}`
      + ` · ${msToSeconds(k.delayMs.min)}–${msToSeconds(k.delayMs.max)} s apart · started ${formatTime(k.createdAt)}`
    detailBar.max = Math.max(1, p.total)
    detailBar.value = p.done
    detailBar.setAttribute('aria-label', `Progress: ${p.percent}%`)
    detailBars.replaceChildren(...resultBars(campaignResultRows(k)))
    detailVoters.dataset.voters = String(k.voters)
    detailVoters.textContent = `${k.voters} ${k.voters === 1 ? 'person' : 'people'} counted, each once across the campaign's chats (their newest answer).`
    const file = `campaign-${k.id.replace(/[^A-Za-z0-9_-]/g, '')}.csv`
    csv.href = forAccount(`/campaigns/${encodeURIComponent(k.id)}/results.csv`)
    csv.download = file
    detailChats.replaceChildren(chatTable(k))
  }

  csv.addEventListener('click', async (e) => {
    // Through fetch, so the API token goes along when the server wants one.
    e.preventDefault()
    detailError.textContent = ''
    try {
      await download(csv.href, csv.download)
    } catch (err) {
      detailError.textContent = `CSV download failed: ${errorText(err)}`
    }
  })

  return {
    /** the chat list of the account shown (from GET /get-chats) */
    /** @param {Chat[]} list */
    setChats(list) {
      chats = list
      const known = new Set(list.map((c) => c.id))
      selected = new Set([...selected].filter((id) => known.has(id)))
      showPicker()
    },
    load,
    /** @param {CampaignUpdate} u */
    update(u) {
      changedAt.set(u.campaignId, ++clock)
      const i = campaigns.findIndex((c) => c.id === u.campaignId)
      // Started elsewhere (another tab, a script): the list brings it.
      if (i < 0) { void load(); return }
      const c = applyCampaignUpdate(/** @type {CampaignSummary} */ (campaigns[i]), u)
      campaigns[i] = c
      const item = itemOf(c.id)
      fillItem(item, c)
      flash(item.root)
      if (detail && detail.id === u.campaignId) {
        detail = applyCampaignUpdate(detail, u)
        showDetail()
        scheduleDetail()
      }
    },
    /** forgets everything of the account shown before */
    clear() {
      turn++
      if (detailTimer) { clearTimeout(detailTimer); detailTimer = null }
      chats = []
      selected = new Set()
      campaigns = []
      items.clear()
      changedAt.clear()
      detail = null
      detailId = null
      filter.value = ''
      question.value = ''
      multi.checked = false
      optionRows.reset()
      resetDelays()
      formError.textContent = ''
      formOk.textContent = ''
      listError.textContent = ''
      detailError.textContent = ''
      showList()
      showDetail()
      showPicker()
    },
  }
}

/**
 * Each chat of the campaign with its state, its own tally and its error.
 * @param {CampaignView} k
 */
function chatTable(k) {
  return h('table', { class: 'campaign-chats' },
    h('caption', { class: 'sr-only' }, 'Each chat, in sending order, with its own votes'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Chat'), h('th', { scope: 'col' }, 'State'),
      ...k.options.map((o) => h('th', { scope: 'col', class: 'num' }, o)),
      h('th', { scope: 'col' }, 'Error'))),
    h('tbody', {}, ...perChatRows(k).map((r) => h('tr', { 'data-chat-id': r.chatId, 'data-state': r.state, class: `chat-${r.state}` },
      h('th', { scope: 'row' }, r.name),
      h('td', {}, r.stateText),
      ...k.options.map((o, i) => h('td', { class: 'num', 'data-option': o }, r.counts ? r.counts[i] : '–')),
      h('td', { class: 'chat-error' }, r.error)))))
}
