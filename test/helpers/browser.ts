import { chromium, type Browser } from 'playwright-core';

/**
 * Chromium for the browser tests: the binary the global setup found or installed (CHROMIUM_PATH),
 * with the flags a headless run in a container needs. `args` adds flags (e.g. host resolver rules).
 */
export function launchChromium(args: string[] = []): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH;
  if (!executablePath) throw new Error('CHROMIUM_PATH is not set: run tests through `npm test` (its global setup finds the browser)');
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  });
}
