import type { RegisteredRoute } from '../../server/shared/http.js';

/** Helpers for tests driven by the route registry (`t.app.registry.routes`). */

/** `METHOD /path` as registered, e.g. `GET /accounts/:id`. */
export const routeLabel = (r: RegisteredRoute): string => `${r.method.toUpperCase()} ${r.path}`;

/** The route's path with every `:param` replaced by `id`. */
export const concretePath = (r: RegisteredRoute, id: string): string => r.path.replace(/:[A-Za-z]+/g, encodeURIComponent(id));

/** A JSON body for routes that take one (an empty object: enough to reach validation). */
export const emptyBodyFor = (r: RegisteredRoute): object | undefined => (r.hasBody ? {} : undefined);
