/**
 * What only a PostgreSQL deployment (DATABASE_URL) needs: imported by runtime/app.ts only then,
 * so a SQLite start does not load pg, its Socket.IO adapter or the cluster code (~60 ms of imports
 * before the server listens).
 */
// The PostgreSQL Socket.IO adapter, events kept in emit order (ordered-pg-adapter.ts).
export { createOrderedPgAdapter as createAdapter } from './ordered-pg-adapter.ts'
export { openCluster } from '../store/postgres/cluster.ts'
export { openPool } from '../store/postgres/db.ts'
export { openPostgresStore } from '../store/postgres/index.ts'
