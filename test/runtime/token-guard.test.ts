import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { tokenMatches } from '../../runtime/token-guard.ts'

const token = suite('tokenMatches')

token('only the exact token matches', () => {
  assert.ok(tokenMatches('s3cret-s3cret-s3cret', 's3cret-s3cret-s3cret'))
  assert.not.ok(tokenMatches('s3cret-s3cret-s3creT', 's3cret-s3cret-s3cret'))
  assert.not.ok(tokenMatches('s3cret', 's3cret-s3cret-s3cret'))
  assert.not.ok(tokenMatches('', 's3cret-s3cret-s3cret'))
  assert.not.ok(tokenMatches(undefined, 's3cret-s3cret-s3cret'))
})

token.run()
