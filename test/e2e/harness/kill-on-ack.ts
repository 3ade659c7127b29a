import type { AckRecord, FakeWhatsApp, ReceiptRecord } from '../fake-wa/index.ts'
import type { ServerProcess } from './server-process.ts'

export interface AckKill {
  /** 'receipt' (delivery, sender, …) or 'ack' (a nack included): what the client sent first */
  by: 'receipt' | 'ack'
  /** the receipt type or the ack's error code */
  detail: string
  /** ms from arming to the SIGKILL */
  afterMs: number
}

/**
 * Arms a kill -9 of `server` for the instant the fake WhatsApp receives the client's receipt
 * (any type but `retry`, which asks for the message again) or ack for message `messageId`:
 * the signal is sent synchronously from the fake's event, before the test process does
 * anything else. Arm it before the message goes out; resolves once the process is gone.
 * Rejects (and kills nothing) when no receipt or ack comes within `timeoutMs`.
 */
export function killOnAck(fake: FakeWhatsApp, server: ServerProcess, messageId: string, timeoutMs = 15_000): Promise<AckKill> {
  const armed = Date.now()
  return new Promise<AckKill>((resolve, reject) => {
    const done = (by: AckKill['by'], detail: string) => {
      server.proc.kill('SIGKILL')
      const afterMs = Date.now() - armed
      off()
      server.kill9().then(() => resolve({ by, detail, afterMs }), reject)
    }
    const onReceipt = (r: ReceiptRecord) => { if (r.id === messageId && r.type !== 'retry') done('receipt', r.type) }
    const onAck = (a: AckRecord) => { if (a.id === messageId) done('ack', a.error ?? 'ok') }
    const timer = setTimeout(() => { off(); reject(new Error(`no receipt or ack for ${messageId} within ${timeoutMs} ms`)) }, timeoutMs)
    const off = () => {
      clearTimeout(timer)
      fake.events.off('receipt', onReceipt)
      fake.events.off('ack', onAck)
    }
    fake.events.on('receipt', onReceipt)
    fake.events.on('ack', onAck)
  })
}
