import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createQrRenderer } from '../../runtime/qr-svg.ts'

const qr = suite('createQrRenderer')

qr('draws a standalone SVG with a quiet zone', async () => {
  const svg = await createQrRenderer()('2@Xy1,abc=,def=,ghi=')
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  assert.match(svg, /<path/)
  assert.not.match(svg, /<script/i)
})

qr('different texts, different images', async () => {
  const draw = createQrRenderer()
  assert.is.not(await draw('one'), await draw('two'))
})

qr.run()
