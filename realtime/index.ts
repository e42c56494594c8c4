export { createRealtime, SESSIONS_REVOKED_CHANNEL, type Realtime, type RealtimeOptions } from './server.js';
export { pruneEvents, DEFAULT_RETENTION_MS, type PruneOptions } from './prune.js';
