/**
 * Who the benchmark users are (seeds/bench.ts writes them; the k6 scripts and the Node runner sign
 * in as them). No imports: k6 loads this file too.
 */
export const BENCH_PASSWORD = 'Numina-bench-user-passphrase';
export const benchEmail = (n: number): string => `bench-${n}@bench.numina.local`;
