/**
 * Input limits, defined once: the handlers enforce them, the OpenAPI document states them, and
 * the dashboard reads them from that document (GET /openapi.json) rather than retyping them.
 */

/** A poll's question, after trimming. */
export const MAX_QUESTION = 255
/** WhatsApp shows at most 12 options. */
export const MAX_OPTIONS = 12
/** WhatsApp clients cut option texts at 100 characters; longer ones would not show as sent. */
export const MAX_OPTION_LENGTH = 100
/** Request bodies larger than this are answered 413 before any handler runs. */
export const MAX_BODY_BYTES = 64 * 1024
/** JSON nested deeper than this is an attack, not a poll. */
export const MAX_JSON_DEPTH = 32

/** The chats a poll can go to: a person by phone number or LID, or a group. */
export const CHAT_JID = /^[0-9]{5,20}(:[0-9]{1,3})?@s\.whatsapp\.net$|^[0-9]{5,20}(-[0-9]{5,20})?@g\.us$|^[0-9]{5,20}(:[0-9]{1,3})?@lid$/

/** An account id (API.md, "Several accounts"). */
export const ACCOUNT_ID = /^[a-z0-9_-]{1,32}$/
