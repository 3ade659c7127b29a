import qrcode from 'qrcode'
import type { QrRenderer } from '../contract/http.ts'

/**
 * qrcode's Node entry loads fs and a PNG encoder, so it lives here and reaches handlers as a
 * plain function. Margin 2 and a white background keep the code scannable on a dark page.
 */
export function createQrRenderer(): QrRenderer {
  return (text) => qrcode.toString(text, { type: 'svg', errorCorrectionLevel: 'L', margin: 2, color: { dark: '#000000', light: '#ffffff' } })
}
