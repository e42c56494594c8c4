/**
 * A small stand-in for k6's JavaScript modules (`k6`, `k6/http`, `k6/metrics`), enough to load a
 * k6 script under jest and run its stages as k6 does: the module top level is the init context,
 * then the default function runs per iteration in the VU context. What k6 refuses outside init
 * (creating metrics, `open()`) throws here with k6's message, so a script that would fail in k6
 * fails its test. HTTP is answered by `respond` (a fake server the test provides).
 * Mapped in for `k6` and `k6/*` by jest.config.js; test: test/unit/k6-script.test.ts.
 */
type Stage = 'init' | 'vu';
let stage: Stage = 'init';
export const emulator = {
  setStage(s: Stage) {
    stage = s;
  },
  respond: (_method: string, _url: string, _body: string | null): { status: number; body?: unknown } => ({ status: 200 }),
  metrics: new Map<string, { type: string; values: number[] }>(),
  /** The fake realtime server: frames it sends when a socket opens, and in answer to each frame it gets. */
  socketServer: {
    onOpen: (): string[] => [],
    onFrame: (_frame: string): string[] => [],
  },
  sockets: [] as WebSocket[],
  /** Delivers a frame from the fake server to every open socket (e.g. an event after a write). */
  pushToSockets(frame: string): void {
    for (const ws of emulator.sockets) if (ws.readyState === 1) ws.deliver(frame);
  },
  /** Runs the timers (k6/timers, socket frames) due within the next `ms` of virtual time, in order. */
  runTimers(ms: number): void {
    const until = clock + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const t = timers[0];
      if (!t || t.at > until) break;
      clock = t.at;
      if (t.every === undefined) timers.shift();
      else t.at += Math.max(1, t.every);
      t.fn();
    }
    clock = until;
  },
  checks: new Map<string, { passes: number; fails: number }>(),
  sleeps: 0,
};

let clock = 0;
let timerIds = 0;
const timers: { id: number; at: number; every?: number; fn: () => void }[] = [];

/** k6/timers, on the emulator's virtual clock (emulator.runTimers moves it). */
export function setTimeout(fn: () => void, delay: number): number {
  const id = ++timerIds;
  timers.push({ id, at: clock + delay, fn });
  return id;
}
export function setInterval(fn: () => void, delay: number): number {
  const id = ++timerIds;
  timers.push({ id, at: clock + delay, every: delay, fn });
  return id;
}
export function clearTimeout(id: number): void {
  const i = timers.findIndex((t) => t.id === id);
  if (i >= 0) timers.splice(i, 1);
}
export const clearInterval = clearTimeout;

/** k6/websockets' WebSocket against emulator.socketServer: frames arrive through the timers, as on k6's event loop. */
export class WebSocket {
  readyState = 0;
  onmessage: (event?: { data: unknown }) => void = () => {};
  onerror: () => void = () => {};
  onopen: () => void = () => {};
  constructor(readonly url: string) {
    if (stage === 'init') throw new Error('GoError: using websockets in the init context is not supported');
    emulator.sockets.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen();
      for (const f of emulator.socketServer.onOpen()) this.deliver(f);
    }, 0);
  }
  deliver(frame: string): void {
    setTimeout(() => {
      if (this.readyState === 1) this.onmessage({ data: frame });
    }, 0);
  }
  send(frame: string): void {
    if (this.readyState !== 1) throw new Error('GoError: InvalidStateError: the socket is not open');
    for (const f of emulator.socketServer.onFrame(frame)) this.deliver(f);
  }
  close(): void {
    this.readyState = 3;
  }
}

function initOnly(what: string): void {
  if (stage !== 'init') throw new Error(`GoError: ${what} must be called in the init context`);
}

class Metric {
  private readonly values: number[] = [];
  constructor(
    readonly name: string,
    type: string,
  ) {
    initOnly('metrics (new Trend/Counter/Rate/Gauge)');
    if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/.test(name)) throw new Error(`GoError: invalid metric name ${JSON.stringify(name)}`);
    if (emulator.metrics.has(name)) throw new Error(`GoError: metric ${name} already exists`);
    emulator.metrics.set(name, { type, values: this.values });
  }
  add(value: number): void {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`GoError: ${this.name}: value must be a number`);
    this.values.push(value);
  }
}
export class Trend extends Metric {
  constructor(name: string, _isTime?: boolean) {
    super(name, 'trend');
  }
}
export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter');
  }
}
export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate');
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge');
  }
}

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  if (stage === 'init') throw new Error('GoError: check() is not allowed in the init context');
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = Boolean(fn(value));
    const c = emulator.checks.get(name) ?? { passes: 0, fails: 0 };
    if (ok) c.passes++;
    else c.fails++;
    emulator.checks.set(name, c);
    all &&= ok;
  }
  return all;
}

export function sleep(_seconds: number): void {
  emulator.sleeps++;
}

export function open(_path: string): string {
  initOnly('open()');
  return '';
}

interface Response {
  status: number;
  body: string;
  timings: { duration: number };
  json(selector?: string): unknown;
}

function request(method: string, url: string, body?: string | null): Response {
  if (stage === 'init') throw new Error('GoError: making HTTP requests in the init context is not supported');
  const r = emulator.respond(method, url, body ?? null);
  const text = r.body === undefined ? '' : JSON.stringify(r.body);
  return {
    status: r.status,
    body: text,
    timings: { duration: 1 },
    json(selector?: string) {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return selector ? selector.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], parsed) : parsed;
    },
  };
}

const http = {
  request,
  get: (url: string) => request('GET', url),
  post: (url: string, body?: string | null) => request('POST', url, body),
  put: (url: string, body?: string | null) => request('PUT', url, body),
  del: (url: string, body?: string | null) => request('DELETE', url, body),
};
export default http;
