/** A poll about to be sent by this account. */
export interface NewPoll {
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
