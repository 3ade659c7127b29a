// @ts-check
import { currentAccount, errorText, forAccount, getJson, postJson } from './api.js'
import { byId } from './dom.js'
import { chatLabel, filterChats, pollRequest } from './model.js'
import { createOptionRows } from './options.js'

/** @typedef {import('./model.js').Chat} Chat */

/**
 * The chat picker and the poll form.
 * @param {{ onChats: (chats: Chat[]) => void, limits: import('./model.js').Limits }} deps
 */
export function createComposer({ onChats, limits }) {
  const form = byId('poll-form', HTMLFormElement)
  const chat = byId('chat', HTMLSelectElement)
  const chatFilter = byId('chat-filter', HTMLInputElement)
  const chatCount = byId('chat-count', HTMLElement)
  const refresh = byId('chats-refresh', HTMLButtonElement)
  const question = byId('question', HTMLInputElement)
  const optionRows = createOptionRows({ list: byId('options', HTMLOListElement), add: byId('add-option', HTMLButtonElement), limits })
  const multi = byId('multi', HTMLInputElement)
  const send = byId('send', HTMLButtonElement)
  const error = byId('poll-error', HTMLElement)
  const ok = byId('poll-ok', HTMLElement)

  /** @type {Chat[]} */
  let all = []

  function showChats() {
    const keep = chat.value
    const shown = filterChats(all, chatFilter.value)
    chat.replaceChildren(
      new Option(shown.length ? 'Choose a chat…' : 'No chats match', ''),
      // new Option(text, value) sets text, never markup.
      ...shown.map((c) => new Option(chatLabel(c), c.id, false, c.id === keep)))
    chatCount.textContent = all.length
      ? `${shown.length} of ${all.length} chats`
      : 'No chats yet. WhatsApp sends them shortly after linking; press Refresh chats.'
  }

  async function loadChats() {
    refresh.disabled = true
    const asked = currentAccount()
    try {
      /** @type {{ chats: Chat[] }} */
      const body = await getJson(forAccount('/get-chats'))
      // Another account was chosen meanwhile: these chats are not its.
      if (asked !== currentAccount()) return
      all = body.chats
      onChats(all)
      showChats()
    } catch (err) {
      chatCount.textContent = `Could not load the chats: ${errorText(err)}`
    } finally {
      refresh.disabled = false
    }
  }

  chatFilter.addEventListener('input', showChats)
  refresh.addEventListener('click', () => void loadChats())
  form.addEventListener('input', () => { ok.textContent = '' })

  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    ok.textContent = ''
    const checked = pollRequest({ chatId: chat.value, question: question.value, options: optionRows.values(), multi: multi.checked }, limits)
    if (!checked.ok) {
      error.textContent = checked.message
      const target = checked.field === 'chat' ? chat : checked.field === 'question' ? question : optionRows.first()
      target?.focus()
      return
    }
    send.disabled = true
    try {
      /** @type {{ pollMsgId: string }} */
      const res = await postJson(forAccount('/send-poll'), checked.body)
      ok.textContent = `Poll sent (id ${res.pollMsgId}).`
      question.value = ''
      multi.checked = false
      optionRows.reset()
      question.focus()
    } catch (err) {
      error.textContent = `The poll was not sent: ${errorText(err)}`
    } finally {
      send.disabled = false
    }
  })

  showChats()
  /** @type {ReturnType<typeof setTimeout> | null} */
  let retry = null
  /**
   * Right after linking WhatsApp is still sending the chats: ask again a few times while
   * the list is empty, so nobody has to press Refresh.
   */
  async function loadChatsSoon(delays = [2000, 5000, 10_000]) {
    if (retry) { clearTimeout(retry); retry = null }
    await loadChats()
    const [next, ...rest] = delays
    if (!all.length && next !== undefined) retry = setTimeout(() => void loadChatsSoon(rest), next)
  }

  return {
    loadChats: loadChatsSoon,
    /** forgets the chats and what was typed (another account is shown) */
    clear() {
      if (retry) { clearTimeout(retry); retry = null }
      all = []
      chatFilter.value = ''
      question.value = ''
      multi.checked = false
      error.textContent = ''
      ok.textContent = ''
      optionRows.reset()
      showChats()
    },
  }
}
