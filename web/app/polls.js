// @ts-check
import { download, errorText, forAccount, getJson } from './api.js'
import { formatTime, h } from './dom.js'
import { applyUpdate, displayJid, optionRows, sortPolls, voterRows } from './model.js'

/** @typedef {import('./model.js').Poll} Poll */
/** @typedef {import('./model.js').Vote} Vote */
/** @typedef {import('./model.js').PollUpdate} PollUpdate */

/**
 * @typedef {object} Card
 * @property {HTMLLIElement} root
 * @property {HTMLElement} title
 * @property {HTMLElement} meta
 * @property {HTMLUListElement} bars
 * @property {HTMLElement} votersSummary
 * @property {HTMLUListElement} voters
 * @property {HTMLDetailsElement} history
 * @property {HTMLElement} historyBody
 * @property {ReturnType<typeof setTimeout> | null} reload
 */

/**
 * The poll list. Each poll keeps its card, so a live update changes numbers in place and
 * leaves open details, focus and scroll where the user had them.
 * @param {{ list: HTMLUListElement, empty: HTMLElement, chatName: (id: string) => string, personName: (jid: string) => string | undefined }} deps
 */
export function createPollList({ list, empty, chatName, personName }) {
  /** @type {Map<string, Poll>} */
  const polls = new Map()
  /** @param {string} jid */
  const person = (jid) => {
    const name = personName(jid)
    return name ? `${name} (${displayJid(jid)})` : displayJid(jid)
  }
  /** @type {Map<string, Card>} */
  const cards = new Map()

  /** @param {string} id @returns {Card} */
  function createCard(id) {
    const title = h('h3', { class: 'poll-question' })
    const meta = h('p', { class: 'poll-meta' })
    const bars = h('ul', { class: 'bars', 'aria-label': 'Results' })
    const votersSummary = h('summary')
    const voters = h('ul', { class: 'voters' })
    const historyBody = h('div', { class: 'history-body' })
    const history = h('details', { class: 'history' }, h('summary', {}, 'Vote history'), historyBody)
    history.addEventListener('toggle', () => { if (history.open) void loadHistory(id) })
    const csv = h('button', { type: 'button', class: 'secondary' }, 'Download CSV')
    csv.addEventListener('click', () => void downloadCsv(id, csv))
    const root = h('li', { class: 'poll', 'data-poll-id': id },
      h('article', { 'aria-label': 'Poll' },
        title, meta, bars,
        h('details', { class: 'voters-box' }, votersSummary, voters),
        history,
        h('p', { class: 'actions' }, csv)))
    return { root, title, meta, bars, votersSummary, voters, history, historyBody, reload: null }
  }

  /** @param {Card} card @param {Poll} poll */
  function fill(card, poll) {
    card.title.textContent = poll.question
    card.root.querySelector('article')?.setAttribute('aria-label', `Poll: ${poll.question}`)
    const count = Object.keys(poll.voters).length
    card.meta.textContent = `${chatName(poll.chatId)} · ${formatTime(poll.timestamp)} · `
      + `${poll.selectableCount === 1 ? 'one answer' : 'multiple answers'} · ${count} ${count === 1 ? 'voter' : 'voters'}`

    card.bars.replaceChildren(...resultBars(optionRows(poll)))

    const rows = voterRows(poll)
    card.votersSummary.textContent = `Who voted what (${rows.length})`
    card.voters.replaceChildren(...(rows.length
      ? rows.map(({ voter, choices }) => {
        return h('li', { 'data-voter': voter }, h('span', { class: 'voter' }, person(voter)), ': ', choices.join(', '))
      })
      : [h('li', { class: 'hint' }, 'No votes yet.')]))
  }

  function place() {
    const order = sortPolls(Object.fromEntries(polls))
    list.replaceChildren(...order.map(([id]) => cards.get(id)?.root).filter((el) => el !== undefined))
    empty.hidden = order.length > 0
  }

  /**
   * @param {string} id
   * @param {Poll} poll
   * @returns {Card} the card, new or refilled
   */
  function store(id, poll) {
    polls.set(id, poll)
    let card = cards.get(id)
    if (!card) { card = createCard(id); cards.set(id, card) }
    fill(card, poll)
    return card
  }

  /** @param {string} id @param {Poll} poll */
  function upsert(id, poll) {
    const fresh = !cards.has(id)
    const card = store(id, poll)
    if (fresh) { place(); return }
    flash(card.root)
    // An open history follows the votes, after a short pause so a burst loads once.
    if (card.history.open) {
      if (card.reload) clearTimeout(card.reload)
      card.reload = setTimeout(() => { card.reload = null; void loadHistory(id) }, 400)
    }
  }

  /** @param {string} id */
  async function loadHistory(id) {
    const card = cards.get(id)
    const poll = polls.get(id)
    if (!card || !poll) return
    card.historyBody.setAttribute('aria-busy', 'true')
    try {
      /** @type {{ votes: Vote[] }} */
      const { votes } = await getJson(forAccount(`/polls/${encodeURIComponent(id)}/votes`))
      card.historyBody.replaceChildren(votes.length ? historyTable(votes, person) : h('p', { class: 'hint' }, 'No votes received yet.'))
    } catch (err) {
      card.historyBody.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load the history: ${errorText(err)}`))
    } finally {
      card.historyBody.removeAttribute('aria-busy')
    }
  }

  /** @param {string} id @param {HTMLButtonElement} button */
  async function downloadCsv(id, button) {
    button.disabled = true
    try {
      await download(forAccount(`/polls/${encodeURIComponent(id)}/results.csv`), `poll-${id.replace(/[^A-Za-z0-9_-]/g, '')}.csv`)
    } catch (err) {
      button.after(h('span', { class: 'error', role: 'alert' }, ` CSV download failed: ${errorText(err)}`))
    } finally {
      button.disabled = false
    }
  }

  return {
    /** @param {Record<string, Poll>} all */
    reset(all) {
      polls.clear()
      for (const id of [...cards.keys()]) if (!(id in all)) cards.delete(id)
      for (const [id, poll] of Object.entries(all)) store(id, poll)
      place()
    },
    upsert,
    /** @param {PollUpdate} update */
    async update(update) {
      const next = applyUpdate(polls.get(update.pollMsgId), update)
      if (next) { upsert(update.pollMsgId, next); return }
      // A poll we have not seen (sent from another tab before we loaded): fetch it whole.
      try {
        const { success: _s, pollMsgId: _id, ...poll } = await getJson(forAccount(`/polls/${encodeURIComponent(update.pollMsgId)}`))
        upsert(update.pollMsgId, /** @type {Poll} */ (poll))
      } catch { /* the next update or initial_poll_data brings it */ }
    },
    /** re-labels chat names once the chat list is known */
    refreshNames() {
      for (const [id, poll] of polls) { const card = cards.get(id); if (card) fill(card, poll) }
    },
  }
}

/**
 * @param {Vote[]} votes
 * @param {(jid: string) => string} who
 */
function historyTable(votes, who) {
  return h('table', {},
    h('caption', { class: 'sr-only' }, 'Votes, oldest first'),
    h('thead', {}, h('tr', {}, ...['Voter', 'Choice', 'Sent', 'Received', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...votes.map((v) => h('tr', { class: `vote-${v.status}` },
      h('td', {}, who(v.voter)),
      h('td', {}, v.selected.length ? v.selected.join(', ') : '(retracted)'),
      h('td', {}, formatTime(v.senderTimestamp)),
      h('td', {}, formatTime(v.receivedAt)),
      h('td', {}, v.reason ? `${v.status} (${v.reason})` : v.status)))))
}

/**
 * A bar chart's rows: each option with its votes and its share as a bar.
 * @param {{ option: string, votes: number, share: number }[]} rows
 */
export function resultBars(rows) {
  return rows.map(({ option, votes, share }) => {
    const pct = Math.round(share * 100)
    const fill = h('span', { class: 'bar-fill' })
    // CSSOM, not a style attribute: the CSP forbids inline styles but not this.
    fill.style.width = `${pct}%`
    return h('li', { class: 'bar-row', 'data-option': option, 'data-votes': votes },
      h('span', { class: 'bar-label' }, option),
      h('span', { class: 'bar-track', role: 'img', 'aria-label': `${option}: ${votes} ${votes === 1 ? 'vote' : 'votes'}, ${pct}%` }, fill),
      h('span', { class: 'bar-count', 'aria-hidden': 'true' }, `${votes} · ${pct}%`))
  })
}

/** @param {HTMLElement} el */
export function flash(el) {
  el.classList.remove('updated')
  // Reading layout restarts the CSS animation for a second update in a row.
  void el.offsetWidth
  el.classList.add('updated')
}
