import { Writable } from 'node:stream';

export interface LogCapture<E = Record<string, unknown>> {
  /** Give this to the logger (pino writes one JSON line per entry). */
  stream: Writable;
  /** Every chunk written, as text. */
  lines: string[];
  /** Every log line, parsed, in order (grows as the logger writes). */
  entries: E[];
}

/** A log destination that keeps what the real logger (redaction included) writes, for tests that read the log. */
export function captureLogs<E = Record<string, unknown>>(): LogCapture<E> {
  const lines: string[] = [];
  const entries: E[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk);
      lines.push(text);
      for (const line of text.split('\n').filter(Boolean)) entries.push(JSON.parse(line) as E);
      cb();
    },
  });
  return { stream, lines, entries };
}
