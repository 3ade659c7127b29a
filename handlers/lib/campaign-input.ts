import { DEFAULT_CAMPAIGN_DELAY, MAX_CAMPAIGN_CHATS, MAX_CAMPAIGN_DELAY_MS, type NewCampaign } from '../../contract/campaigns.ts'
import { bad, CHAT_ID_RULE, isChatId, parsePollFields } from './poll-input.ts'

/** POST /campaigns's body as a NewCampaign, or a 400 naming the first wrong field (API.md, "Campaigns"). */
export function parseCampaignInput(body: Record<string, unknown>): NewCampaign {
  const { chatIds, delayMs } = body
  if (!Array.isArray(chatIds)) throw bad('chatIds', 'must be an array of chat ids')
  if (chatIds.length < 1 || chatIds.length > MAX_CAMPAIGN_CHATS) throw bad('chatIds', `must hold 1 to ${MAX_CAMPAIGN_CHATS.toLocaleString('en')} chats, got ${chatIds.length}`)
  const seen = new Map<string, number>()
  chatIds.forEach((id, i) => {
    if (!isChatId(id)) throw bad(`chatIds[${i}]`, CHAT_ID_RULE)
    const first = seen.get(id)
    if (first !== undefined) throw bad(`chatIds[${i}]`, `repeats chatIds[${first}] (${id}): each chat gets the poll once`)
    seen.set(id, i)
  })
  const poll = parsePollFields(body)
  return { chatIds: chatIds as string[], ...poll, delayMs: parseDelay(delayMs) }
}

function parseDelay(v: unknown): { min: number; max: number } {
  if (v === undefined) return { ...DEFAULT_CAMPAIGN_DELAY }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('delayMs', 'must be an object { min, max } in milliseconds')
  const { min, max } = v as Record<string, unknown>
  for (const [name, n] of [['min', min], ['max', max]] as const) {
    if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > MAX_CAMPAIGN_DELAY_MS) {
      throw bad(`delayMs.${name}`, `must be a whole number of milliseconds from 0 to ${MAX_CAMPAIGN_DELAY_MS.toLocaleString('en')}`)
    }
  }
  if ((min as number) > (max as number)) throw bad('delayMs.min', `must not exceed delayMs.max (${min} > ${max})`)
  return { min: min as number, max: max as number }
}
