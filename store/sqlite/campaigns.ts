import type { CampaignChatState, CampaignStatus } from '../../contract/campaigns.ts'
import type { Outbox } from '../outbox-port.ts'
import type { CampaignChatRecord, CampaignCommit, CampaignRecord, CampaignTable } from '../ports.ts'
import { tx, type Db } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWrite } from '../write-health.ts'

/** The campaigns of one account in SQLite (tables `campaign` and `campaign_chat`, schema.ts). */
export function createSqliteCampaigns(db: Db, account: string, health: WriteReporter, outbox?: Pick<Outbox, 'appendEvents'>): CampaignTable {
  const st = {
    campaigns: db.prepare(`SELECT id, question, options, selectable_count, delay_min, delay_max, status, created_at
      FROM campaign WHERE account = ? ORDER BY created_at, id`).raw(),
    chats: db.prepare(`SELECT campaign_id, idx, chat_id, state, poll_msg_id, error, at FROM campaign_chat
      WHERE account = ? ORDER BY campaign_id, idx`).raw(),
    insert: db.prepare(`INSERT INTO campaign (account, id, question, options, selectable_count, delay_min, delay_max, status,
      created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)`),
    insertChat: db.prepare(`INSERT INTO campaign_chat (account, campaign_id, idx, chat_id, state) VALUES (?,?,?,?,'queued')`),
    status: db.prepare('UPDATE campaign SET status = ?, updated_at = ? WHERE account = ? AND id = ?'),
    chat: db.prepare(`UPDATE campaign_chat SET state = ?, poll_msg_id = coalesce(?, poll_msg_id), error = ?, at = ?
      WHERE account = ? AND campaign_id = ? AND idx = ?`),
  }
  return {
    async all() {
      const byCampaign = new Map<string, CampaignChatRecord[]>()
      for (const [campaignId, idx, chatId, state, pollMsgId, error, at] of st.chats.all(account) as Array<[string, number, string, CampaignChatState, string | null, string | null, number | null]>) {
        let list = byCampaign.get(campaignId)
        if (!list) byCampaign.set(campaignId, (list = []))
        list.push({ idx, chatId, state, ...(pollMsgId ? { pollMsgId } : {}), ...(error ? { error } : {}), ...(at !== null ? { at } : {}) })
      }
      return (st.campaigns.all(account) as Array<[string, string, string, number, number, number, CampaignStatus, number]>)
        .map(([id, question, options, selectableCount, delayMin, delayMax, status, createdAt]): CampaignRecord & { chats: CampaignChatRecord[] } => ({
          id, question, options: JSON.parse(options) as string[], selectableCount, delayMin, delayMax, status, createdAt,
          chats: byCampaign.get(id) ?? [],
        }))
    },
    async commit(c: CampaignCommit) {
      const now = Date.now()
      reportWrite(health, 'campaigns', () => tx(db, () => {
        if (c.create) {
          const { campaign: k, chatIds } = c.create
          st.insert.run([account, k.id, k.question, JSON.stringify(k.options), k.selectableCount, k.delayMin, k.delayMax, k.status, k.createdAt, now])
          chatIds.forEach((chatId, idx) => st.insertChat.run([account, k.id, idx, chatId]))
        }
        if (c.status) st.status.run([c.status.status, now, account, c.status.id])
        for (const ch of c.chats ?? []) {
          st.chat.run([ch.state, ch.pollMsgId ?? null, ch.error ?? null, ch.at, account, ch.campaignId, ch.idx])
        }
        if (c.events?.length) {
          if (!outbox) throw new Error('webhook events to write, but no outbox')
          outbox.appendEvents(c.events)
        }
      }))
    },
  }
}
