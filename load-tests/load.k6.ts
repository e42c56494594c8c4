/**
 * k6 load: 100 VUs (ramp 1 min, 5 min steady, ramp down 1 min), each signed in to a seeded user
 * and running the mix with 1 s between requests, plus one Socket.IO connection per VU timing its
 * own writes' events (`socket_commit_to_receive`).
 *   k6 run -e BASE_URL=http://localhost:3000 load-tests/load.k6.ts                 the seed's bar
 *   k6 run -e BASE_URL=http://localhost:3000 -e PROFILE=goal load-tests/load.k6.ts  issue #16's targets
 * Data, server limits and how to start the server: load-tests/k6-mix.ts.
 */
import { GOAL_THRESHOLDS, socketSession, userLoop } from './k6-mix.ts';

const VUS = Number(__ENV.VUS || 100);

export const options = {
  scenarios: {
    users: {
      executor: 'ramping-vus',
      exec: 'users',
      startVUs: 0,
      stages: [
        { duration: '1m', target: VUS },
        { duration: '5m', target: VUS },
        { duration: '1m', target: 0 },
      ],
      gracefulRampDown: '5s',
    },
    // One socket per user for the whole run (7 min), opened as the users ramp up.
    sockets: { executor: 'per-vu-iterations', exec: 'sockets', vus: VUS, iterations: 1, maxDuration: '8m' },
  },
  thresholds:
    __ENV.PROFILE === 'goal'
      ? GOAL_THRESHOLDS
      : { 'http_req_duration{scenario:users}': ['p(95)<300'], http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] },
};

export function users(): void {
  userLoop();
}

export function sockets(): void {
  socketSession(7 * 60);
}

export default users;
