import type { Logger } from 'pino';

/**
 * Periodic housekeeping that features register (purging expired rows and the like). Timers start
 * when the instance serves and stop at shutdown; they never keep a process alive. Every instance
 * runs them, so a job must be safe to run concurrently (plain deletes of expired rows are).
 */
export interface Jobs {
  schedule(name: string, everyMs: number, fn: () => Promise<unknown>): void;
  start(): void;
  stop(): void;
  /** Runs one job now (operators, tests); resolves with its result. */
  run(name: string): Promise<unknown>;
}

export function createJobs(logger: Logger): Jobs {
  const jobs = new Map<string, { everyMs: number; fn: () => Promise<unknown> }>();
  const timers: NodeJS.Timeout[] = [];
  const runLogged = async (name: string) => {
    try {
      const result = await jobs.get(name)!.fn();
      logger.debug({ job: name, result }, 'job done');
    } catch (err) {
      logger.error({ err, job: name }, 'job failed');
    }
  };
  return {
    schedule(name, everyMs, fn) {
      if (jobs.has(name)) throw new Error(`job ${name} is scheduled twice`);
      jobs.set(name, { everyMs, fn });
    },
    start() {
      for (const [name, job] of jobs) {
        const timer = setInterval(() => void runLogged(name), job.everyMs);
        timer.unref();
        timers.push(timer);
      }
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
    },
    async run(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job ${name}`);
      return job.fn();
    },
  };
}
