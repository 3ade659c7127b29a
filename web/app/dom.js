// @ts-check
/**
 * The only way the dashboard builds markup. Strings become text nodes and attributes are set
 * one by one, so chat names, questions and options never pass through an HTML parser.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    // Handlers are attached with addEventListener; an on* attribute would be a script sink.
    if (/^on/i.test(name)) throw new Error(`refusing event attribute ${name}`)
    if (value === null || value === undefined || value === false) continue
    el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'number' ? String(child) : child)
  }
  return el
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id)
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`)
  return el
}

/** @param {number} ms */
export function formatTime(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return 'unknown'
  return new Date(ms).toLocaleString()
}
