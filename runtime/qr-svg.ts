import type { QrRenderer } from '../contract/http.ts'

/**
 * qrcode's Node entry loads fs and a PNG encoder, so it lives here and reaches handlers as a
 * plain function; it is imported at the first QR drawn, not at start (tens of ms of imports
 * before the server listens). Margin 2 and a white background keep the code scannable on a dark page.
 */
export function createQrRenderer(): QrRenderer {
  let qrcode: Promise<typeof import('qrcode')> | null = null
  return async (text) => {
    const m = await (qrcode ??= import('qrcode'))
    // A CommonJS module: its functions are on the default export under Node, on the module under Deno.
    const q = (m as { default?: typeof m }).default ?? m
    return q.toString(text, { type: 'svg', errorCorrectionLevel: 'L', margin: 2, color: { dark: '#000000', light: '#ffffff' } })
  }
}
