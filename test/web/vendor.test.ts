import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'

const vendor = suite('web/vendor')

// The browser build is committed (socket.io-client is a devDependency, absent from the
// image); this keeps it the same version the tests speak to the server with.
vendor('socket.io.esm.min.js is the installed socket.io-client build, byte for byte', () => {
  const installed = readFileSync(new URL('../../node_modules/socket.io-client/dist/socket.io.esm.min.js', import.meta.url))
  const served = readFileSync(new URL('../../web/vendor/socket.io.esm.min.js', import.meta.url))
  assert.ok(installed.equals(served), 'run `npm run vendor:web` after updating socket.io-client')
})

vendor.run()
