import type { Response } from 'express';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { createDb, type Db } from './db.js';
import { RateLimitedError } from './errors.js';

/**
 * Streamed downloads (transaction export, report CSVs, the GDPR export) hold a database cursor and
 * a connection for as long as the client reads. Three rules keep a slow or hostile reader from
 * starving the API:
 *
 * 1. Slots: each user may run `perUser` downloads at once and the instance `max`; the slot is
 *    taken synchronously, before the handler's first `await`, so two requests cannot both pass a
 *    check and then both start (check-then-act across an await). It is given back when the
 *    response closes, whatever ended it (finished, failed, client gone, cut for being too slow).
 * 2. A separate small pool (`max` connections) that only downloads read from: however many are
 *    stalled, the API's own pool is untouched.
 * 3. A throughput guard: while the response has data waiting that the client does not take
 *    (back-pressure), the client must accept at least `minBytesPerWindow` in every `stallMs`
 *    window, or the response is cut and its slot and connection come free.
 */
export interface Downloads {
  /**
   * Reserves a download slot for `userId` and binds it to `res`: released on `res` 'close', and
   * the throughput guard watches `res` until then. Call it first in the handler, before any
   * await. Throws RateLimitedError (429, Retry-After) when the user or the instance is at its cap.
   * Returns `release` (idempotent), for a handler that gives up before streaming.
   */
  acquire(userId: string, res: Response): () => void;
  /** The pool downloads read from (created on first use; the main pool when no URL is known). */
  db(): Db;
  /** Slots in use, for metrics and tests. */
  inUse(): { total: number; users: number };
  /** Closes the downloads pool (instance shutdown). */
  close(): Promise<void>;
}

export interface DownloadLimits {
  /** Downloads running at once per instance; also the size of the downloads pool. */
  max: number;
  /** Downloads running at once per user. */
  perUser: number;
  /** Window of the throughput guard. */
  stallMs: number;
  /** Bytes the client must accept per window while the server has data waiting for it. */
  minBytesPerWindow: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = { max: 4, perUser: 2, stallMs: 30_000, minBytesPerWindow: 16 * 1024 };

/** Bytes handed to the kernel for this response's socket so far (HTTP and HTTPS alike). */
function socketBytes(res: Response): number {
  return res.socket?.bytesWritten ?? 0;
}

export function createDownloads(deps: {
  limits?: Partial<DownloadLimits>;
  /** Connection string for the downloads pool; without it downloads share `mainDb`. */
  databaseUrl?: string;
  mainDb: Db;
  acquireTimeoutMs?: number;
  logger: Logger;
  /** Where `downloads_in_progress` is exported (the instance's Prometheus registry). */
  metricsRegistry?: Registry;
}): Downloads {
  const limits = { ...DEFAULT_DOWNLOAD_LIMITS, ...deps.limits };
  const perUser = new Map<string, number>();
  let total = 0;
  let pool: Db | undefined;
  if (deps.metricsRegistry) {
    new Gauge({
      name: 'downloads_in_progress',
      help: `Streamed downloads running on this instance (at most ${limits.max}; ${limits.perUser} per user)`,
      registers: [deps.metricsRegistry],
      collect() {
        this.set(total);
      },
    });
  }

  function guard(res: Response): () => void {
    let last = socketBytes(res);
    const timer = setInterval(() => {
      const now = socketBytes(res);
      // Back-pressure at the tick and too little taken since the last one: the client is the
      // bottleneck (a slow database is not the client's fault and never trips this).
      const stalled = res.writableNeedDrain && now - last < limits.minBytesPerWindow;
      last = now;
      if (stalled) {
        deps.logger.info({ path: res.req?.path, bytes: now }, 'download cut: the client stopped reading');
        res.destroy();
      }
    }, limits.stallMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  return {
    acquire(userId, res) {
      const mine = perUser.get(userId) ?? 0;
      if (mine >= limits.perUser) throw new RateLimitedError(5, `At most ${limits.perUser} downloads may run at once; wait for one to finish.`);
      if (total >= limits.max) throw new RateLimitedError(5, 'Too many downloads are running; try again shortly.');
      perUser.set(userId, mine + 1);
      total++;
      const stopGuard = guard(res);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        stopGuard();
        total--;
        const left = (perUser.get(userId) ?? 1) - 1;
        if (left > 0) perUser.set(userId, left);
        else perUser.delete(userId);
      };
      res.once('close', release);
      return release;
    },
    db() {
      if (!deps.databaseUrl) return deps.mainDb;
      pool ??= createDb(deps.databaseUrl, limits.max, deps.acquireTimeoutMs ?? 10_000);
      return pool;
    },
    inUse: () => ({ total, users: perUser.size }),
    async close() {
      const p = pool;
      pool = undefined;
      await p?.destroy();
    },
  };
}
