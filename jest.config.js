/** Jest runs the TypeScript sources as ESM through SWC (see README "Tests"). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  // k6 scripts load under jest through a small emulator of k6's modules (test/unit/k6-script.test.ts).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^k6(/.*)?$': '<rootDir>/load-tests/k6-emulator.ts' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
  // A bound against hangs, not a speed check (speed lives in load-tests/ and BENCHMARKS.md): on a
  // machine shared with other work (load average 20+ on 2 cores) starting an app instance alone took
  // over 30 s, failing hooks that were merely slow.
  testTimeout: 90000,
};
