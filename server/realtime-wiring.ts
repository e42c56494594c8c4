import type { App } from './app.js';
import type { HttpServer } from './shared/server.js';
import { createRealtime } from '../realtime/index.js';

export interface RealtimeHandle {
  close(): Promise<void>;
}

/**
 * Attaches live updates (Socket.IO, see realtime/) to the HTTP server: connect-time auth,
 * per-user rooms, after-commit delivery from the event outbox, resume, prune.
 */
export async function attachRealtime(server: HttpServer, app: App): Promise<RealtimeHandle> {
  const realtime = await createRealtime(server, app);
  return { close: () => realtime.close() };
}
