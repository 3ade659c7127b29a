import { type Handler, json } from '../contract/http.ts'

/** GET /get-chats — groups and individual chats, sorted by name. */
export const getChats: Handler = (_req, ctx) => json(200, { success: true, chats: ctx.session.listChats() })
