// @ts-check
import { h } from './dom.js'

/**
 * The option rows of a poll form: one text input each with a remove button, at least one row,
 * at most `limits.options`, labelled by number for screen readers.
 * @param {{ list: HTMLOListElement, add: HTMLButtonElement, limits: import('./model.js').Limits }} deps
 */
export function createOptionRows({ list, add, limits }) {
  function renumber() {
    const rows = [...list.querySelectorAll('li')]
    rows.forEach((li, i) => {
      li.querySelector('input')?.setAttribute('aria-label', `Option ${i + 1}`)
      const remove = li.querySelector('button')
      if (remove) {
        remove.setAttribute('aria-label', `Remove option ${i + 1}`)
        remove.disabled = rows.length <= 1
      }
    })
    add.disabled = rows.length >= limits.options
  }

  /** @param {string} [value] */
  function addRow(value = '') {
    if (list.children.length >= limits.options) return null
    const input = h('input', { type: 'text', maxlength: limits.optionLength, name: 'option', autocomplete: 'off' })
    input.value = value
    const remove = h('button', { type: 'button', class: 'icon secondary', title: 'Remove this option' }, '×')
    const li = h('li', {}, input, remove)
    remove.addEventListener('click', () => {
      const next = li.nextElementSibling ?? li.previousElementSibling
      li.remove()
      renumber()
      next?.querySelector('input')?.focus()
    })
    list.append(li)
    renumber()
    return input
  }

  /** two empty rows */
  function reset() {
    list.replaceChildren()
    addRow()
    addRow()
  }

  add.addEventListener('click', () => addRow()?.focus())
  reset()

  return {
    reset,
    /** the texts as typed, empty rows included */
    values: () => [...list.querySelectorAll('input')].map((i) => i.value),
    /** the first input, to focus when the options are what is wrong */
    first: () => list.querySelector('input'),
  }
}
