import type { App } from './app.js';
import type { HttpServer } from './shared/server.js';

export interface RealtimeHandle {
  close(): Promise<void>;
}

/**
 * Attaches live updates to the HTTP server. The realtime/ package provides the implementation;
 * until it is wired, nothing is attached.
 */
export async function attachRealtime(_server: HttpServer, _app: App): Promise<RealtimeHandle> {
  return { close: async () => {} };
}
