/**
 * k6 stress: ramps the users from 0 to 500 VUs (100 more every 2 minutes) until the server fails:
 * the run aborts as soon as more than 5 % of requests fail or p95 passes 2 s, and the VU count at
 * that moment is the answer. 500 VUs share 100 seeded users (5 per user), with sockets alongside.
 *   k6 run -e BASE_URL=http://localhost:3000 load-tests/stress.k6.ts
 * Data, server limits and how to start the server: load-tests/k6-mix.ts.
 */
import { socketSession, userLoop } from './k6-mix.ts';

const MAX = Number(__ENV.MAX_VUS || 500);

export const options = {
  scenarios: {
    users: {
      executor: 'ramping-vus',
      exec: 'users',
      startVUs: 0,
      stages: [1, 2, 3, 4, 5].map((k) => ({ duration: '2m', target: Math.round((MAX * k) / 5) })),
      gracefulRampDown: '5s',
    },
    sockets: { executor: 'per-vu-iterations', exec: 'sockets', vus: Math.min(MAX, 100), iterations: 1, maxDuration: '11m' },
  },
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.05', abortOnFail: true, delayAbortEval: '30s' }],
    'http_req_duration{scenario:users}': [{ threshold: 'p(95)<2000', abortOnFail: true, delayAbortEval: '30s' }],
  },
};

export function users(): void {
  userLoop();
}

export function sockets(): void {
  socketSession(10 * 60);
}

export default users;
