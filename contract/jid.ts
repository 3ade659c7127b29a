/**
 * Reading WhatsApp JIDs (`user[:device]@server`), the one way every layer does it. Who a JID
 * belongs to (own account, LID↔PN) is core/identity.ts's business; this is only the syntax.
 */

export const isLid = (jid: string): boolean => jid.endsWith('@lid') || jid.endsWith('@hosted.lid')
export const isPn = (jid: string): boolean => jid.endsWith('@s.whatsapp.net') || jid.endsWith('@c.us') || jid.endsWith('@hosted')

/** The user part of a JID: no device, no agent, no server. */
export function userOf(jid: string | undefined): string {
  if (!jid) return ''
  const at = jid.indexOf('@')
  const user = at < 0 ? jid : jid.slice(0, at)
  const colon = user.indexOf(':')
  return colon < 0 ? user : user.slice(0, colon)
}

/**
 * jidNormalizedUser without its allocations on the hot path: drops the device (and agent) of
 * `user_agent:device@server`, maps c.us to s.whatsapp.net, answers '' for a non-JID.
 */
export function norm(jid: string | undefined): string {
  if (!jid) return ''
  const at = jid.indexOf('@')
  if (at < 0) return ''
  let user = jid.slice(0, at)
  let server = jid.slice(at + 1)
  const colon = user.indexOf(':')
  if (colon >= 0) user = user.slice(0, colon)
  const under = user.indexOf('_')
  if (under >= 0) user = user.slice(0, under)
  if (server === 'c.us') server = 's.whatsapp.net'
  else if (colon < 0 && under < 0) return jid
  return `${user}@${server}`
}
