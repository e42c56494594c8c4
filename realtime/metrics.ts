import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface RealtimeMetrics {
  connected: Gauge;
  delivered: Counter<'type'>;
  lag: Histogram;
  disconnects: Counter<'reason'>;
}

/**
 * Realtime metrics on the app's registry (one registry per app: tests build several apps in one
 * process, so nothing here may touch prom-client's global registry). A second Socket.IO server on
 * the same app shares them.
 */
export function createRealtimeMetrics(registry: Registry): RealtimeMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    connected:
      existing<Gauge>('realtime_connected_sockets') ??
      new Gauge({
        name: 'realtime_connected_sockets',
        help: 'Authenticated Socket.IO connections held by this instance',
        registers: [registry],
      }),
    delivered:
      existing<Counter<'type'>>('realtime_events_delivered_total') ??
      new Counter({
        name: 'realtime_events_delivered_total',
        help: 'Events written to sockets (one per socket that received it), by event type',
        labelNames: ['type'] as const,
        registers: [registry],
      }),
    lag:
      existing<Histogram>('realtime_delivery_lag_seconds') ??
      new Histogram({
        name: 'realtime_delivery_lag_seconds',
        help: 'Time from the event being stored (event.at) to it being written to a socket',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
        registers: [registry],
      }),
    disconnects:
      existing<Counter<'reason'>>('realtime_server_disconnects_total') ??
      new Counter({
        name: 'realtime_server_disconnects_total',
        help: 'Sockets the server closed, by reason (session_revoked, token_expired, slow_consumer, shutdown)',
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
  };
}
