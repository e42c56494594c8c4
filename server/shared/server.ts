import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Express } from 'express';
import type { Config } from './config.js';

export type HttpServer = http.Server | https.Server;

/** HTTPS when TLS files are configured, else HTTP. */
export function createHttpServer(app: Express, config: Pick<Config, 'tls'>): HttpServer {
  if (config.tls) {
    return https.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, app);
  }
  return http.createServer(app);
}

/** Listens and resolves with the bound port; rejects on a taken port (Express 5 would not throw). */
export function listen(server: HttpServer, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/**
 * Stops accepting, lets in-flight requests finish for up to `timeoutMs`, then cuts what is left.
 */
export function closeServer(server: HttpServer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
