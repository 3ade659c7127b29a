import type { CampaignChatState, CampaignStatus } from '../../contract/campaigns.ts'
import type { CampaignChatRecord, CampaignCommit, CampaignRecord, CampaignTable } from '../ports.ts'
import { arrays, tx, type Pool } from './db.ts'
import type { WriteReporter } from './health.ts'
import { reportWriteAsync } from '../write-health.ts'
import type { PgOutbox } from './outbox.ts'

/** The campaigns of one account in PostgreSQL (tables `campaign` and `campaign_chat`, schema.ts). */
export function createPgCampaigns(pool: Pool, schema: string, account: string, health: WriteReporter,
  outbox?: Pick<PgOutbox, 'appendEventsIn' | 'appended'>): CampaignTable {
  const K = `"${schema}".campaign`
  const CH = `"${schema}".campaign_chat`
  return {
    async all() {
      const byCampaign = new Map<string, CampaignChatRecord[]>()
      const chats = await arrays<[string, number, string, CampaignChatState, string | null, string | null, string | null]>(pool,
        `SELECT campaign_id, idx, chat_id, state, poll_msg_id, error, at FROM ${CH} WHERE account = $1 ORDER BY campaign_id, idx`, [account])
      for (const [campaignId, idx, chatId, state, pollMsgId, error, at] of chats) {
        let list = byCampaign.get(campaignId)
        if (!list) byCampaign.set(campaignId, (list = []))
        list.push({ idx, chatId, state, ...(pollMsgId ? { pollMsgId } : {}), ...(error ? { error } : {}), ...(at !== null ? { at: Number(at) } : {}) })
      }
      const campaigns = await arrays<[string, string, string[], number, number, number, CampaignStatus, string]>(pool,
        `SELECT id, question, options, selectable_count, delay_min, delay_max, status, created_at FROM ${K}
         WHERE account = $1 ORDER BY created_at, id`, [account])
      return campaigns.map(([id, question, options, selectableCount, delayMin, delayMax, status, createdAt]): CampaignRecord & { chats: CampaignChatRecord[] } => ({
        id, question, options, selectableCount, delayMin, delayMax, status, createdAt: Number(createdAt), chats: byCampaign.get(id) ?? [],
      }))
    },
    async commit(c: CampaignCommit) {
      const now = Date.now()
      let delivered = 0
      await reportWriteAsync(health, 'campaigns', () => tx(pool, async (db) => {
        if (c.create) {
          const { campaign: k, chatIds } = c.create
          await db.query(`INSERT INTO ${K} (account, id, question, options, selectable_count, delay_min, delay_max, status, created_at, updated_at)
            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, [account, k.id, k.question, k.options, k.selectableCount, k.delayMin, k.delayMax, k.status, k.createdAt, now])
          await db.query(`INSERT INTO ${CH} (account, campaign_id, idx, chat_id, state)
            SELECT $1, $2, ord - 1, chat_id, 'queued' FROM unnest($3::text[]) WITH ORDINALITY AS x(chat_id, ord)`, [account, k.id, chatIds])
        }
        if (c.status) await db.query(`UPDATE ${K} SET status = $1, updated_at = $2 WHERE account = $3 AND id = $4`, [c.status.status, now, account, c.status.id])
        for (const ch of c.chats ?? []) {
          await db.query(`UPDATE ${CH} SET state = $1, poll_msg_id = coalesce($2, poll_msg_id), error = $3, at = $4
            WHERE account = $5 AND campaign_id = $6 AND idx = $7`, [ch.state, ch.pollMsgId ?? null, ch.error ?? null, ch.at, account, ch.campaignId, ch.idx])
        }
        if (c.events?.length) {
          if (!outbox) throw new Error('webhook events to write, but no outbox')
          delivered = await outbox.appendEventsIn(db, c.events)
        }
      }))
      if (delivered) outbox!.appended()
    },
  }
}
