// Types for the vendored browser build (a verbatim copy of socket.io-client/dist/socket.io.esm.min.js).
export { io, Socket } from 'socket.io-client'
