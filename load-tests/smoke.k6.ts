/**
 * k6 smoke: 1 VU for 30 s on seeded data, plus its socket — does every request of the mix work?
 *   k6 run -e BASE_URL=http://localhost:3000 load-tests/smoke.k6.ts
 * Data, server limits and how to start the server: load-tests/k6-mix.ts.
 */
import { socketSession, userLoop } from './k6-mix.ts';

export const options = {
  scenarios: {
    users: { executor: 'constant-vus', exec: 'users', vus: 1, duration: '30s' },
    sockets: { executor: 'per-vu-iterations', exec: 'sockets', vus: 1, iterations: 1, maxDuration: '40s' },
  },
  thresholds: { http_req_failed: ['rate==0'], checks: ['rate==1'] },
};

export function users(): void {
  userLoop();
}

export function sockets(): void {
  socketSession(30);
}

export default users;
