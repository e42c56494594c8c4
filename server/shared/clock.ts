/** The source of "now". Injected so tests can move time (token expiry, recurring dates). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock tests can move: it runs with real time, shifted by an offset that `set` and `advance`
 * change (so timeouts and database time keep flowing while "now" is where the test put it).
 */
export function manualClock(start?: Date): Clock & { set(d: Date): void; advance(ms: number): void } {
  let offset = start ? start.getTime() - Date.now() : 0;
  return {
    now: () => new Date(Date.now() + offset),
    set: (d) => {
      offset = d.getTime() - Date.now();
    },
    advance: (ms) => {
      offset += ms;
    },
  };
}

/**
 * One formatter per time zone, made once: building an Intl.DateTimeFormat costs ~100× formatting
 * with it (it loads the zone's ICU data), and budget and goal reads ask for "today" every request.
 * Bounded by the IANA zone names users can choose (a few hundred).
 */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** Today's calendar date (YYYY-MM-DD) in an IANA time zone. */
export function todayIn(timeZone: string, clock: Clock = systemClock): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(clock.now());
}
