import type { Route } from '../contract/http.ts'
import { accountsAdd } from './accounts-add.ts'
import { accountsList } from './accounts-list.ts'
import { accountsRemove } from './accounts-remove.ts'
import { campaign } from './campaign.ts'
import { campaignCancel, campaignPause, campaignResume } from './campaign-actions.ts'
import { campaignResultsCsv } from './campaign-results-csv.ts'
import { campaignsCreate } from './campaigns-create.ts'
import { campaignsList } from './campaigns-list.ts'
import { getAllPollData } from './get-all-poll-data.ts'
import { getChats } from './get-chats.ts'
import { health } from './health.ts'
import { logout } from './logout.ts'
import { metrics } from './metrics.ts'
import { openApi } from './openapi.ts'
import { pairingCode } from './pairing-code.ts'
import { poll } from './poll.ts'
import { pollResultsCsv } from './poll-results-csv.ts'
import { pollVotes } from './poll-votes.ts'
import { qrSvg } from './qr-svg.ts'
import { sendPoll } from './send-poll.ts'
import { status } from './status.ts'
import { webhooksAdd } from './webhooks-add.ts'
import { webhooksDeliveries } from './webhooks-deliveries.ts'
import { webhooksList } from './webhooks-list.ts'
import { webhooksRemove } from './webhooks-remove.ts'
import { webhooksRetry } from './webhooks-retry.ts'

/**
 * The whole HTTP API on one screen. `public` routes skip the API token. Every route is served
 * for the `default` account at its path and for each account under `/accounts/:account` + path
 * (runtime/router.ts); `global` ones are the server's own and exist only at their path.
 */
export const routes: Route[] = [
  { method: 'GET', path: '/status', handler: status },
  { method: 'POST', path: '/send-poll', handler: sendPoll },
  { method: 'GET', path: '/get-chats', handler: getChats },
  { method: 'POST', path: '/logout', handler: logout },
  { method: 'GET', path: '/get-all-poll-data', handler: getAllPollData },
  { method: 'GET', path: '/health', handler: health, public: true, global: true },
  { method: 'GET', path: '/polls/:id', handler: poll },
  { method: 'GET', path: '/polls/:id/votes', handler: pollVotes },
  { method: 'GET', path: '/polls/:id/results.csv', handler: pollResultsCsv },
  { method: 'POST', path: '/pairing-code', handler: pairingCode },
  { method: 'GET', path: '/status/qr.svg', handler: qrSvg },
  { method: 'GET', path: '/metrics', handler: metrics, global: true },
  { method: 'GET', path: '/openapi.json', handler: openApi, public: true, global: true },
  { method: 'GET', path: '/webhooks', handler: webhooksList, global: true },
  { method: 'POST', path: '/webhooks', handler: webhooksAdd, global: true },
  { method: 'DELETE', path: '/webhooks/:id', handler: webhooksRemove, global: true },
  { method: 'GET', path: '/webhooks/deliveries', handler: webhooksDeliveries, global: true },
  { method: 'POST', path: '/webhooks/deliveries/:id/retry', handler: webhooksRetry, global: true },
  { method: 'GET', path: '/campaigns', handler: campaignsList },
  { method: 'POST', path: '/campaigns', handler: campaignsCreate },
  { method: 'GET', path: '/campaigns/:id', handler: campaign },
  { method: 'POST', path: '/campaigns/:id/pause', handler: campaignPause },
  { method: 'POST', path: '/campaigns/:id/resume', handler: campaignResume },
  { method: 'POST', path: '/campaigns/:id/cancel', handler: campaignCancel },
  { method: 'GET', path: '/campaigns/:id/results.csv', handler: campaignResultsCsv },
  { method: 'GET', path: '/accounts', handler: accountsList, global: true },
  { method: 'POST', path: '/accounts', handler: accountsAdd, global: true },
  { method: 'DELETE', path: '/accounts/:id', handler: accountsRemove, global: true },
]
