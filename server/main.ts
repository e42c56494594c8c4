import { loadConfig, ConfigError } from './shared/config.js';
import { EmbeddedPostgresError } from './shared/embedded-postgres.js';
import { createLogger } from './shared/logger.js';
import { startInstance, type Running } from './runtime.js';

/**
 * The process entry point: `npm start`. Stops the embedded database on every exit path we can
 * see (signals, uncaught errors); a SIGKILL cannot be caught, and the next start reuses the data.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`numina: refusing to start: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let running: Running | undefined;
  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    try {
      await running?.stop();
    } finally {
      logger.flush?.();
      process.exit(code);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });
  try {
    running = await startInstance(config, logger);
  } catch (err) {
    // An operator's problem (data dir, port, missing package) is one line, not a stack.
    if (err instanceof EmbeddedPostgresError) console.error(`numina: refusing to start: ${err.message}`);
    else logger.fatal({ err }, 'could not start');
    await shutdown('start failed', 1);
    return;
  }
  if (stopping) return;
  logger.info({ url: running.url, publicUrl: config.publicUrl }, `numina listening on port ${running.port}`);
}

void main();
