import type { Outbox } from '../outbox-port.ts'
import type { CampaignChatRecord, CampaignCommit, CampaignRecord, CampaignTable } from '../ports.ts'

type Whole = CampaignRecord & { chats: CampaignChatRecord[] }

/** The campaigns of one account in memory; a commit is applied to a copy first, so a failing one changes nothing. */
export function memoryCampaigns(check: () => void, outbox: Pick<Outbox, 'appendEvents'>): CampaignTable {
  let campaigns = new Map<string, Whole>()
  return {
    async all() {
      return structuredClone([...campaigns.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)))
    },
    async commit(c: CampaignCommit) {
      check()
      const next = new Map(campaigns)
      const edit = (id: string): Whole | undefined => {
        const k = next.get(id)
        if (!k) return undefined
        const copy = { ...k, chats: [...k.chats] }
        next.set(id, copy)
        return copy
      }
      if (c.create) {
        const { campaign, chatIds } = c.create
        if (next.has(campaign.id)) throw new Error(`UNIQUE constraint failed: campaign.id (${campaign.id})`)
        next.set(campaign.id, { ...structuredClone(campaign), chats: chatIds.map((chatId, idx) => ({ idx, chatId, state: 'queued' })) })
      }
      if (c.status) { const k = edit(c.status.id); if (k) k.status = c.status.status }
      for (const ch of c.chats ?? []) {
        const k = edit(ch.campaignId)
        const old = k?.chats[ch.idx]
        if (!k || !old) continue
        const pollMsgId = ch.pollMsgId ?? old.pollMsgId
        k.chats[ch.idx] = { idx: old.idx, chatId: old.chatId, state: ch.state, ...(pollMsgId ? { pollMsgId } : {}), ...(ch.error ? { error: ch.error } : {}), at: ch.at }
      }
      campaigns = next
      if (c.events?.length) outbox.appendEvents(c.events)
    },
  }
}
