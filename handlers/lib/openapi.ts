/**
 * The OpenAPI 3.1 description of the HTTP API, written by hand from API.md. It is data, not
 * generated from the route table, so it can say what the table cannot (bodies, answers);
 * test/handlers/openapi.test.ts keeps the two in step.
 */

import { DEFAULT_CAMPAIGN_DELAY, MAX_CAMPAIGN_CHATS, MAX_CAMPAIGN_DELAY_MS } from '../../contract/campaigns.ts'
import { ACCOUNT_ID, CHAT_JID, MAX_OPTION_LENGTH, MAX_OPTIONS, MAX_QUESTION } from '../../contract/limits.ts'
import { EVENT_TYPES } from '../../contract/webhooks.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const jsonBody = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } })
const failure = (description: string) => jsonBody(ref('Failure'), description)
/** Every route but /health answers 401 when API_TOKEN is set and the token is missing or wrong. */
const unauthorized = { $ref: '#/components/responses/Unauthorized' }
/** Every path answers 421 to a Host that is not this server's (API.md "Who may call"). */
const misdirected = { $ref: '#/components/responses/Misdirected' }
/** Every write answers 403 to a cross-site browser request. */
const crossSite = { $ref: '#/components/responses/CrossSite' }
const idParam = { name: 'id', in: 'path', required: true, description: 'the poll message id (pollMsgId)', schema: { type: 'string' } }
const campaignIdParam = { name: 'id', in: 'path', required: true, description: 'the campaign id (campaignId)', schema: { type: 'string' } }
const STATUS = ['ready', 'qr_pending', 'disconnected', 'logged_out']
const CAMPAIGN_STATUS = ['running', 'paused', 'done', 'cancelled']
const CAMPAIGN_CHAT_STATE = ['queued', 'sending', 'sent', 'failed', 'cancelled']
const VOTE_STATUS = ['counted', 'superseded', 'duplicate', 'late', 'pending', 'rejected']

/** The poll itself, as /send-poll and /campaigns take it. */
const pollFields = {
  question: { type: 'string', minLength: 1, maxLength: MAX_QUESTION },
  options: { type: 'array', minItems: 1, maxItems: MAX_OPTIONS, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: MAX_OPTION_LENGTH } },
  allowMultipleAnswers: { type: 'boolean', default: false, description: 'true → any number of options (selectableCount 0), false → one (1)' },
}

const schemas = {
  Failure: {
    type: 'object',
    required: ['success', 'message'],
    properties: {
      success: { const: false },
      message: { type: 'string', description: 'readable reason, shown to the user as is' },
      error: { type: 'string', description: 'details, e.g. what WhatsApp answered' },
    },
  },
  User: {
    type: 'object',
    required: ['id', 'name'],
    properties: { id: { type: 'string', description: 'own JID' }, name: { type: 'string', description: 'push name' }, lid: { type: 'string' } },
  },
  Status: {
    type: 'object',
    required: ['status', 'qrCode', 'user'],
    properties: {
      status: { enum: STATUS },
      qrCode: { type: ['string', 'null'], description: 'set only while status is qr_pending' },
      user: { oneOf: [ref('User'), { type: 'null' }], description: 'set only while status is ready' },
      state: { enum: [...STATUS, 'connecting'], description: 'the session state before it is folded into the four public ones' },
    },
  },
  Chat: {
    type: 'object',
    required: ['id', 'name', 'isGroup'],
    properties: { id: { type: 'string' }, name: { type: 'string' }, isGroup: { type: 'boolean' } },
  },
  SendPollRequest: {
    type: 'object',
    required: ['chatId', 'question', 'options'],
    properties: {
      chatId: { type: 'string', description: 'a JID: …@s.whatsapp.net, …@g.us or …@lid' },
      ...pollFields,
    },
  },
  CreateCampaignRequest: {
    type: 'object',
    required: ['chatIds', 'question', 'options'],
    properties: {
      chatIds: {
        type: 'array', minItems: 1, maxItems: MAX_CAMPAIGN_CHATS, uniqueItems: true, description: 'the chats, sent to in this order; each gets the poll once',
        items: { type: 'string', pattern: CHAT_JID.source, description: 'a JID: …@s.whatsapp.net, …@g.us or …@lid' },
      },
      ...pollFields,
      delayMs: {
        type: 'object', required: ['min', 'max'], default: DEFAULT_CAMPAIGN_DELAY,
        description: 'the pause between two sends, random within [min, max] ms (min ≤ max); CAMPAIGN_MAX_PER_MIN caps the sends per minute besides',
        properties: {
          min: { type: 'integer', minimum: 0, maximum: MAX_CAMPAIGN_DELAY_MS },
          max: { type: 'integer', minimum: 0, maximum: MAX_CAMPAIGN_DELAY_MS },
        },
      },
    },
  },
  CampaignSummary: {
    type: 'object',
    required: ['id', 'question', 'options', 'selectableCount', 'delayMs', 'status', 'sent', 'failed', 'total', 'createdAt', 'voters', 'results'],
    properties: {
      id: { type: 'string' },
      question: { type: 'string' },
      options: { type: 'array', items: { type: 'string' } },
      selectableCount: { type: 'integer', enum: [0, 1], description: '0 = any number of options, 1 = single choice' },
      delayMs: { type: 'object', required: ['min', 'max'], properties: { min: { type: 'integer' }, max: { type: 'integer' } } },
      status: { enum: CAMPAIGN_STATUS },
      sent: { type: 'integer', minimum: 0, description: 'chats whose poll went out' },
      failed: { type: 'integer', minimum: 0, description: 'chats WhatsApp refused' },
      total: { type: 'integer', minimum: 1, description: 'chats in the campaign' },
      createdAt: { type: 'integer', description: 'milliseconds' },
      voters: { type: 'integer', minimum: 0, description: 'people counted in results' },
      results: {
        type: 'object', additionalProperties: { type: 'integer', minimum: 0 },
        description: 'option text → people who chose it, each person once across the campaign (their newest standing selection among its chats)',
      },
    },
  },
  CampaignView: {
    allOf: [ref('CampaignSummary'), {
      type: 'object', required: ['chats', 'perChat'],
      properties: {
        chats: { type: 'array', items: ref('CampaignChat'), description: 'in sending order' },
        perChat: {
          type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
          description: "chat id → that chat's own tally (option text → votes); chats whose poll has not gone out are absent",
        },
      },
    }],
  },
  CampaignChat: {
    type: 'object',
    required: ['chatId', 'name', 'state'],
    properties: {
      chatId: { type: 'string' },
      name: { type: 'string' },
      state: { enum: CAMPAIGN_CHAT_STATE, description: 'queued until its turn, sending once its poll id is written, then sent or failed; cancelled when the campaign stopped first' },
      pollMsgId: { type: 'string', description: "this chat's poll (an ordinary poll too), once written" },
      error: { type: 'string', description: 'why WhatsApp refused it (state failed)' },
    },
  },
  Poll: {
    type: 'object',
    required: ['question', 'options', 'optionHashes', 'results', 'voters', 'chatId', 'timestamp', 'selectableCount'],
    properties: {
      question: { type: 'string' },
      options: { type: 'array', items: { type: 'string' }, description: 'original order' },
      optionHashes: { type: 'object', additionalProperties: { type: 'string' }, description: 'sha256 hex of the option text → option text' },
      results: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'option text → current voters who chose it' },
      voters: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: "voter JID → current selection as option hashes" },
      chatId: { type: 'string' },
      timestamp: { type: 'integer', description: 'milliseconds' },
      selectableCount: { type: 'integer', enum: [0, 1], description: '0 = any number of options, 1 = single choice' },
    },
  },
  Vote: {
    type: 'object',
    required: ['voter', 'selected', 'senderTimestamp', 'receivedAt', 'status'],
    properties: {
      voter: { type: 'string' },
      selected: { type: 'array', items: { type: 'string' }, description: 'option texts' },
      senderTimestamp: { type: 'integer', description: 'milliseconds, as the voter sent it' },
      receivedAt: { type: 'integer', description: 'milliseconds, when this server got it' },
      status: { enum: VOTE_STATUS },
      reason: { type: 'string', description: 'why a vote is pending or rejected' },
    },
  },
}

/** Paths of the server itself, served only as they are; every other path exists per account too. */
const GLOBAL_PATHS = /^\/(health|metrics|openapi\.json|webhooks|accounts)(\/|$)/
const accountParam = {
  name: 'account', in: 'path', required: true, description: 'an account id (GET /accounts); `default` is also served without the prefix',
  schema: { type: 'string', pattern: ACCOUNT_ID.source },
}

type Operation = { operationId: string; parameters?: readonly object[]; responses: Record<string, object> }

/**
 * The paths, plus each account's copy of every path that is not the server's own (API.md,
 * "Several accounts"): `/accounts/{account}/status` is `/status` for that account, and answers
 * 404 for an account that does not exist.
 */
function withAccountPaths<P extends Record<string, Record<string, Operation>>>(paths: P): P {
  const copies: Record<string, Record<string, Operation>> = {}
  for (const [path, item] of Object.entries(paths)) {
    if (GLOBAL_PATHS.test(path)) continue
    copies[`/accounts/{account}${path}`] = Object.fromEntries(Object.entries(item).map(([method, op]) => {
      const notFound = op.responses['404'] as { description?: string } | undefined
      return [method, {
        ...op,
        operationId: `${op.operationId}OfAccount`,
        parameters: [accountParam, ...(op.parameters ?? [])],
        responses: { ...op.responses, 404: failure(notFound?.description ? `${notFound.description}, or no such account` : 'no such account') },
      }]
    }))
  }
  return { ...paths, ...copies }
}

/** POST /campaigns/{id}/<action>: no body; the status after it. */
function campaignAction(action: 'pause' | 'resume' | 'cancel', operationId: string, summary: string) {
  return {
    [`/campaigns/{id}/${action}`]: {
      post: {
        operationId, summary,
        parameters: [campaignIdParam],
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'campaignId', 'status'],
            properties: { success: { const: true }, campaignId: { type: 'string' }, status: { enum: CAMPAIGN_STATUS } },
          }, 'the status now (unchanged when it already was, e.g. pausing a paused campaign)'),
          404: failure('unknown campaign'),
          409: failure('the campaign has ended (done or cancelled)'),
          403: crossSite,
          415: failure('a body that is not declared Content-Type: application/json (no body needs no type)'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
  }
}

const accountSummary = {
  type: 'object', required: ['id', 'status', 'user'],
  properties: {
    id: { type: 'string', pattern: ACCOUNT_ID.source },
    status: { enum: STATUS },
    user: { oneOf: [ref('User'), { type: 'null' }], description: 'set only while status is ready' },
  },
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'pollwire',
    version: '0.1.0',
    description: 'Self-hosted WhatsApp poll server. Live updates are Socket.IO events on the same port: '
      + 'qr_code, client_status, whatsapp_user, initial_poll_data, new_poll_sent, poll_update_to_gui, '
      + 'campaign_update ({ campaignId, status, sent, failed, total, results, voters }, at most one per campaign per 250 ms). '
      + 'Several WhatsApp accounts: every path but /health, /metrics, /openapi.json, /webhooks… and /accounts… '
      + 'exists per account as /accounts/{account}/…; the unprefixed paths and the default Socket.IO namespace '
      + 'are the account `default`, namespace /accounts/{account} carries the same events for that account.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: 'http://127.0.0.1:3000' }],
  // The token is required only when the server runs with API_TOKEN; the empty requirement says "or none".
  security: [{ bearerAuth: [] }, {}],
  paths: withAccountPaths({
    '/status': {
      get: {
        operationId: 'getStatus', summary: 'Connection state, the QR while pairing, the account while ready',
        responses: {
          200: jsonBody(ref('Status'), 'the state'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/status/qr.svg': {
      get: {
        operationId: 'getQrSvg', summary: 'The current pairing QR as an SVG image',
        responses: {
          200: { description: 'the QR', content: { 'image/svg+xml': { schema: { type: 'string' } } } },
          404: failure('no QR is pending'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/send-poll': {
      post: {
        operationId: 'sendPoll', summary: 'Sends a poll and starts tracking its votes',
        requestBody: { required: true, content: { 'application/json': { schema: ref('SendPollRequest') } } },
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'message', 'pollMsgId'],
            properties: { success: { const: true }, message: { type: 'string' }, pollMsgId: { type: 'string' } },
          }, 'sent'),
          400: failure('bad input'),
          403: crossSite,
          413: failure('body too large'),
          415: failure('body is not declared Content-Type: application/json'),
          502: failure('WhatsApp rejected the send'),
          503: failure('WhatsApp is not connected'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/get-chats': {
      get: {
        operationId: 'getChats', summary: 'Groups and individual chats, sorted by name',
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'chats'],
            properties: { success: { const: true }, chats: { type: 'array', items: ref('Chat') } },
          }, 'the chats'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/logout': {
      post: {
        operationId: 'logout', summary: 'Unlinks the device, clears the credentials and starts a fresh pairing',
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'message'],
            properties: { success: { const: true }, message: { type: 'string' } },
          }, 'logged out'),
          403: crossSite,
          415: failure('a body was sent that is not declared Content-Type: application/json (no body needs no type)'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/get-all-poll-data': {
      get: {
        operationId: 'getAllPollData', summary: 'Every poll with its live tally',
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'polls'],
            properties: { success: { const: true }, polls: { type: 'object', additionalProperties: ref('Poll'), description: 'pollMsgId → poll' } },
          }, 'the polls'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/health': {
      get: {
        operationId: 'getHealth', summary: 'Liveness of the store and the WhatsApp state (no token needed)',
        security: [],
        responses: {
          200: jsonBody(ref('Health'), 'the store answers'),
          503: jsonBody(ref('Health'), 'the store does not answer'),
          421: misdirected,
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics', summary: 'Prometheus text: votes received / decrypted / failed / pending, polls, reconnects, HTTP requests',
        responses: {
          200: { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi', summary: 'This document (no token needed: it says nothing the source does not)',
        security: [],
        responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, 421: misdirected },
      },
    },
    '/polls/{id}': {
      get: {
        operationId: 'getPoll', summary: 'One poll with its live tally',
        parameters: [idParam],
        responses: {
          200: jsonBody({
            allOf: [ref('Poll'), { type: 'object', required: ['success', 'pollMsgId'], properties: { success: { const: true }, pollMsgId: { type: 'string' } } }],
          }, 'the poll'),
          404: failure('unknown poll'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/polls/{id}/votes': {
      get: {
        operationId: 'getPollVotes', summary: 'Every vote received for the poll, oldest first',
        parameters: [idParam],
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'votes'],
            properties: { success: { const: true }, votes: { type: 'array', items: ref('Vote') } },
          }, 'the vote history'),
          404: failure('unknown poll'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/polls/{id}/results.csv': {
      get: {
        operationId: 'getPollResultsCsv', summary: '`option,votes` rows, a blank line, then `voter,options` rows',
        parameters: [idParam],
        responses: {
          200: { description: 'the results', content: { 'text/csv': { schema: { type: 'string' } } } },
          404: failure('unknown poll'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/pairing-code': {
      post: {
        operationId: 'requestPairingCode', summary: 'Links by an 8-character code typed on the phone instead of a QR',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: {
            type: 'object', required: ['phoneNumber'],
            properties: { phoneNumber: { type: 'string', description: 'international number, digits only', examples: ['15551234567'] } },
          } } },
        },
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'code'],
            properties: { success: { const: true }, code: { type: 'string', examples: ['ABCD-EFGH'] } },
          }, 'the code to type on the phone'),
          400: failure('bad phone number'),
          403: crossSite,
          409: failure('already linked'),
          415: failure('body is not declared Content-Type: application/json'),
          502: failure('WhatsApp did not issue a code'),
          503: failure('not connected to WhatsApp yet'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/campaigns': {
      get: {
        operationId: 'listCampaigns', summary: 'Every campaign of the account, newest first, without its chat list',
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'campaigns'],
            properties: { success: { const: true }, campaigns: { type: 'array', items: ref('CampaignSummary') } },
          }, 'the campaigns'),
          401: unauthorized,
          421: misdirected,
        },
      },
      post: {
        operationId: 'createCampaign',
        summary: 'Sends one poll to many chats from the server, one at a time with a random pause, with one combined result',
        description: 'The campaign and its chat list are committed before the answer; the polls go out in the background '
          + '(while the account is connected, at most CAMPAIGN_MAX_PER_MIN per minute), each written before it is sent, '
          + 'so after a restart it goes on where it stopped and no chat gets the poll twice.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('CreateCampaignRequest') } } },
        responses: {
          202: jsonBody({
            type: 'object', required: ['success', 'campaignId', 'total'],
            properties: { success: { const: true }, campaignId: { type: 'string' }, total: { type: 'integer', minimum: 1 } },
          }, 'committed; sending in the background'),
          400: failure('bad input; the message starts with the field: chatIds, chatIds[i], question, options, allowMultipleAnswers, delayMs, delayMs.min or delayMs.max'),
          403: crossSite,
          413: failure('body too large'),
          415: failure('body is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/campaigns/{id}': {
      get: {
        operationId: 'getCampaign', summary: "Progress, every chat's state, the combined result and each chat's own",
        parameters: [campaignIdParam],
        responses: {
          200: jsonBody({
            type: 'object', required: ['success', 'campaign'], properties: { success: { const: true }, campaign: ref('CampaignView') },
          }, 'the campaign'),
          404: failure('unknown campaign'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    ...campaignAction('pause', 'pauseCampaign', 'No more sends until resumed (a send under way finishes)'),
    ...campaignAction('resume', 'resumeCampaign', 'Sends again where it stopped (also after a logout paused it)'),
    ...campaignAction('cancel', 'cancelCampaign', 'No more sends, ever; the chats not sent become cancelled'),
    '/campaigns/{id}/results.csv': {
      get: {
        operationId: 'getCampaignResultsCsv',
        summary: "`option,votes` rows; each chat's own tally (`chat,name,<options…>`); then every person counted (`voter,options,chat,sender_timestamp_ms`)",
        parameters: [campaignIdParam],
        responses: {
          200: { description: 'the results', content: { 'text/csv': { schema: { type: 'string' } } } },
          404: failure('unknown campaign'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/webhooks': {
      get: {
        operationId: 'listWebhooks', summary: 'Webhook endpoints with their health (secrets are never shown again)',
        responses: {
          200: jsonBody({ type: 'object', required: ['success', 'endpoints'], properties: { success: { const: true }, endpoints: { type: 'array', items: ref('WebhookEndpoint') } } }, 'the endpoints'),
          401: unauthorized,
          421: misdirected,
        },
      },
      post: {
        operationId: 'addWebhook', summary: 'Adds an endpoint; its signing secret is in this answer only',
        requestBody: { required: true, content: { 'application/json': { schema: {
          type: 'object', required: ['url'],
          properties: {
            url: { type: 'string', format: 'uri', description: 'http: or https:; loopback and private addresses are allowed' },
            events: { type: 'array', items: { enum: [...EVENT_TYPES] }, minItems: 1, description: 'left out: every event' },
            account: { type: 'string', pattern: '^[a-z0-9_-]{1,32}$', description: 'left out: every account' },
          },
        } } } },
        responses: {
          201: jsonBody({ type: 'object', required: ['success', 'endpoint', 'secret'], properties: {
            success: { const: true }, endpoint: ref('WebhookEndpoint'), secret: { type: 'string', description: 'whsec_… (Standard Webhooks), shown once' },
          } }, 'added'),
          400: failure('bad url, events or account'),
          403: crossSite,
          415: failure('body is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/webhooks/{id}': {
      delete: {
        operationId: 'removeWebhook', summary: 'Removes an endpoint and its deliveries',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: jsonBody({ type: 'object', required: ['success'], properties: { success: { const: true } } }, 'removed'),
          404: failure('unknown endpoint'),
          409: failure('the endpoint comes from WEBHOOK_URL: change the environment instead'),
          403: crossSite,
          415: failure('a body that is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/webhooks/deliveries': {
      get: {
        operationId: 'listWebhookDeliveries', summary: 'Deliveries, newest first, with attempts and the last error',
        parameters: [
          { name: 'status', in: 'query', schema: { enum: ['pending', 'delivered', 'failed'] } },
          { name: 'endpoint', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          200: jsonBody({ type: 'object', required: ['success', 'deliveries'], properties: { success: { const: true }, deliveries: { type: 'array', items: ref('WebhookDelivery') } } }, 'the deliveries'),
          400: failure('bad status or limit'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/webhooks/deliveries/{id}/retry': {
      post: {
        operationId: 'retryWebhookDelivery', summary: 'Sends a delivery again now (a failed one gets one more attempt)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: jsonBody({ type: 'object', required: ['success', 'delivery'], properties: { success: { const: true }, delivery: ref('WebhookDelivery') } }, 'due now'),
          404: failure('unknown delivery'),
          403: crossSite,
          415: failure('a body that is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/accounts': {
      get: {
        operationId: 'listAccounts', summary: 'Every account with its connection state, and its user while ready',
        responses: {
          200: jsonBody({ type: 'object', required: ['success', 'accounts'], properties: { success: { const: true }, accounts: { type: 'array', items: accountSummary } } }, 'the accounts, default first'),
          401: unauthorized,
          421: misdirected,
        },
      },
      post: {
        operationId: 'addAccount', summary: 'Creates an account and starts its pairing (its QR: GET /accounts/{account}/status or /status/qr.svg)',
        requestBody: { required: true, content: { 'application/json': { schema: {
          type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: ACCOUNT_ID.source } },
        } } } },
        responses: {
          201: jsonBody({ type: 'object', required: ['success', 'account'], properties: { success: { const: true }, message: { type: 'string' }, account: accountSummary } }, 'created, pairing'),
          400: failure('bad id'),
          403: crossSite,
          409: failure('an account with this id exists'),
          415: failure('body is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
    '/accounts/{id}': {
      delete: {
        operationId: 'removeAccount', summary: 'Logs the account out, deletes its credentials and chats; its polls and votes too with purge=true',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'purge', in: 'query', schema: { type: 'boolean', default: false }, description: 'also delete its polls and vote journal' },
        ],
        responses: {
          200: jsonBody({ type: 'object', required: ['success', 'message'], properties: { success: { const: true }, message: { type: 'string' } } }, 'removed'),
          400: failure('purge is not true or false'),
          404: failure('no such account'),
          409: failure('the default account cannot be deleted (log it out with POST /logout)'),
          403: crossSite,
          415: failure('a body that is not declared Content-Type: application/json'),
          401: unauthorized,
          421: misdirected,
        },
      },
    },
  }),
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'the API_TOKEN; Socket.IO takes it as auth.token' },
    },
    schemas: {
      ...schemas,
      WebhookEndpoint: {
        type: 'object', required: ['id', 'url', 'events', 'account', 'source', 'createdAt'],
        properties: {
          id: { type: 'string' }, url: { type: 'string' },
          events: { oneOf: [{ type: 'array', items: { enum: [...EVENT_TYPES] } }, { type: 'null' }], description: 'null: every event' },
          account: { type: ['string', 'null'], description: 'null: every account' },
          source: { enum: ['env', 'api'], description: 'env: from WEBHOOK_URL' },
          createdAt: { type: 'integer' },
          health: { type: 'object', description: 'lastSuccessAt, lastFailureAt, lastError, consecutiveFailures, backlog' },
        },
      },
      WebhookDelivery: {
        type: 'object', required: ['id', 'eventId', 'endpointId', 'type', 'status', 'attempts', 'nextAt', 'createdAt'],
        properties: {
          id: { type: 'string' }, eventId: { type: 'string', description: 'the webhook-id header, the same on every attempt' },
          endpointId: { type: 'string' }, type: { enum: [...EVENT_TYPES] }, status: { enum: ['pending', 'delivered', 'failed'] },
          attempts: { type: 'integer' }, nextAt: { type: 'integer' }, lastError: { type: 'string' }, lastStatus: { type: 'integer' },
          deliveredAt: { type: 'integer' }, createdAt: { type: 'integer' },
        },
      },
      Health: {
        type: 'object',
        required: ['ok', 'whatsapp', 'store'],
        properties: { ok: { type: 'boolean' }, whatsapp: { enum: STATUS }, store: { enum: ['ok', 'error'] } },
      },
    },
    responses: {
      Unauthorized: failure('missing or wrong API token (Authorization: Bearer <token>)'),
      Misdirected: failure('Misdirected Request: the Host header is not loopback, the bind address or in ALLOWED_HOSTS (DNS rebinding); '
        + 'checked when API_TOKEN is unset or ALLOWED_HOSTS is set'),
      CrossSite: failure('a browser request from another site: an Origin that is not this server nor in CORS_ORIGINS, or Sec-Fetch-Site: cross-site'),
    },
  },
} as const
