import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { webhooksAdd } from '../../handlers/webhooks-add.ts'
import { T0, call, webhooksCtx } from './admin-ctx.ts'

const add = suite('POST /webhooks')
const post = (ctx: ReturnType<typeof webhooksCtx>['ctx'], body: unknown) => call(webhooksAdd, ctx, 'POST', '/webhooks', '/webhooks', body)

add('201 with the endpoint and its secret, shown this once', async () => {
  const { ctx, outbox } = webhooksCtx()
  const res = await post(ctx, { url: 'http://192.168.1.20:8080/hook#frag', events: ['poll.vote', 'poll.vote', 'session.status'] })
  assert.is(res.status, 201)
  assert.is(res.body.success, true)
  assert.match(res.body.endpoint.id, /^ep_[0-9A-Z]{26}$/)
  assert.equal({ ...res.body.endpoint, id: 'x' }, {
    id: 'x', url: 'http://192.168.1.20:8080/hook', events: ['poll.vote', 'session.status'], account: null, source: 'api', createdAt: T0,
  })
  assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  assert.is(await outbox.secretOf(res.body.endpoint.id), res.body.secret)
})

add('events left out means every event; account narrows to one account', async () => {
  const { ctx } = webhooksCtx()
  const all = await post(ctx, { url: 'https://hooks.example/x' })
  assert.equal([all.status, all.body.endpoint.events, all.body.endpoint.account], [201, null, null])
  const one = await post(ctx, { url: 'https://hooks.example/x', account: 'shop-2' })
  assert.is(one.body.endpoint.account, 'shop-2')
})

add('400 naming the field for a bad url, a non-array or unknown events, a bad account', async () => {
  const { ctx, outbox } = webhooksCtx()
  const cases: Array<[unknown, RegExp]> = [
    [{}, /^url must be a non-empty string/],
    [{ url: 'ftp://x/y' }, /^url must be an http: or https: URL/],
    [{ url: 'http://u:p@x/y' }, /^url must not carry a user name or password/],
    [{ url: 'nope' }, /^url is not a valid URL/],
    [{ url: 'http://x/y', events: 'poll.vote' }, /^events must be an array/],
    [{ url: 'http://x/y', events: ['poll.vote', 'poll.closed'] }, /^events has an unknown event type "poll.closed"/],
    [{ url: 'http://x/y', events: [] }, /^events must list at least one/],
    [{ url: 'http://x/y', account: 'Not Valid' }, /^account must be an account id/],
  ]
  for (const [body, message] of cases) {
    const res = await post(ctx, body)
    assert.is(res.status, 400, JSON.stringify(body))
    assert.is(res.body.success, false)
    assert.match(res.body.message, message)
  }
  assert.equal(await outbox.endpoints(), [], 'nothing added')
})

add('415 without a JSON body, 400 for JSON that is not an object', async () => {
  const { ctx } = webhooksCtx()
  assert.is((await call(webhooksAdd, ctx, 'POST', '/webhooks', '/webhooks')).status, 415)
  assert.is((await post(ctx, '[1]')).status, 400)
})

add.run()
