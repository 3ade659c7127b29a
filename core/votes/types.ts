/** A poll about to be sent by this account. */
export interface NewPoll {
  /** its message id, when the caller wrote one down before sending (a campaign); made here otherwise */
  id?: string
  chatId: string
  question: string
  options: string[]
  /** 0 = any number of options, 1 = single choice */
  selectableCount: number
}

/** A poll this account created (here or on another device), with the secret its votes are encrypted with. */
export interface PollCreation extends NewPoll {
  id: string
  secret: Uint8Array
  /** ms */
  timestamp: number
}
