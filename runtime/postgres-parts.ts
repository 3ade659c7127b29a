/**
 * What only a PostgreSQL deployment (DATABASE_URL) needs: imported by runtime/app.ts only then,
 * so a SQLite start does not load pg, its Socket.IO adapter or the cluster code (~60 ms of imports
 * before the server listens).
 */
export { createAdapter } from '@socket.io/postgres-adapter'
export { openCluster } from '../store/postgres/cluster.ts'
export { openPool } from '../store/postgres/db.ts'
export { openPostgresStore } from '../store/postgres/index.ts'
