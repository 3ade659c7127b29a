import { newId } from './ids.ts'
import { eventsProblem, normaliseUrl, urlProblem, type EndpointHealth, type WebhooksAdmin } from '../../contract/webhooks.ts'
import { ACCOUNT_ID } from '../../contract/limits.ts'
import type { OutboxPort } from '../../store/outbox-port.ts'
import { generateSecret } from './secret.ts'

const NO_HEALTH: EndpointHealth = { lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0 }

export function createWebhooksAdmin({ outbox, worker }: { outbox: OutboxPort; worker?: { wake(all?: boolean): void } }): WebhooksAdmin {
  return {
    async list() {
      const [endpoints, backlog] = await Promise.all([outbox.endpoints(), outbox.backlog()])
      return Promise.all(endpoints.map(async (ep) => ({
        ...ep,
        health: { ...((await outbox.health(ep.id)) ?? NO_HEALTH), backlog: backlog[ep.id] ?? 0 },
      })))
    },

    async add({ url, events = null, account = null }) {
      // The handlers check first and answer 400; this guards every other caller.
      const problem = urlProblem(url) ?? eventsProblem(events)
      if (problem) throw new Error(problem)
      if (account !== null && !ACCOUNT_ID.test(account)) throw new Error('account must match [a-z0-9_-]{1,32}')
      const secret = generateSecret()
      const endpoint = await outbox.addEndpoint({
        id: newId('ep_'), url: normaliseUrl(url), events: events && [...new Set(events)], account, source: 'api', secret,
      })
      return { endpoint, secret }
    },

    async remove(id) {
      const ep = (await outbox.endpoints()).find((e) => e.id === id)
      if (!ep) return 'unknown'
      if (ep.source === 'env') return 'env'
      await outbox.removeEndpoint(id)
      return 'removed'
    },

    deliveries: (query) => outbox.list(query),

    async retry(id) {
      if (!(await outbox.retry(id))) return undefined
      // Now, even when its endpoint is failing: someone is watching for the result.
      worker?.wake(true)
      return outbox.get(id)
    },
  }
}
