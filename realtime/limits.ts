/** Per-socket limits on what a client sends (docs/api.md, Realtime: `resume`/`auth` 5 per 10 s, one `resume` in flight). */
export interface SocketEventLimits {
  /** `resume` and `auth` events per window. */
  controlEvents: number;
  /** Any events per window (a client sends only `resume` and `auth`; anything else is ignored but counted). */
  anyEvents: number;
  windowMs: number;
}

export const DEFAULT_EVENT_LIMITS: SocketEventLimits = { controlEvents: 5, anyEvents: 20, windowMs: 10_000 };

/**
 * Records a hit at `now` in a sliding window and says whether it is one too many. The array never
 * holds more than `limit + 1` entries, so a flood costs no memory.
 */
export function overLimit(hits: number[], limit: number, windowMs: number, now: number): boolean {
  while (hits.length && hits[0] <= now - windowMs) hits.shift();
  hits.push(now);
  if (hits.length > limit + 1) hits.shift();
  return hits.length > limit;
}
