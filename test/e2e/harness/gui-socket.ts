import { io, type Socket } from 'socket.io-client'

/** A Socket.IO client that records events as the GUI receives them, in order. */
export function guiSocket(url: string, token?: string) {
  const events: Array<{ event: string; payload: any }> = []
  const socket: Socket = io(url, { transports: ['websocket'], reconnection: true, reconnectionDelay: 100, ...(token ? { auth: { token } } : {}) })
  socket.onAny((event, payload) => events.push({ event, payload }))
  return {
    socket,
    events,
    of: (event: string) => events.filter((e) => e.event === event).map((e) => e.payload),
    close: () => { socket.close() },
  }
}
