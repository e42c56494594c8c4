import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../shared/config.js';

/**
 * helmet everywhere; the CSP is relaxed only for the pages that need it (/docs runs Swagger UI,
 * which styles inline; /admin runs AdminJS; /dashboard loads its own script and stylesheet). HSTS and upgrade-insecure-requests only when we serve HTTPS ourselves.
 */
export function securityHeaders(config: Config): RequestHandler {
  const hsts = config.tls ? { maxAge: 31536000, includeSubDomains: true } : false;
  // JSON responses never need to load anything: the strictest policy.
  const api = helmet({ hsts, contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } } });
  const docs = helmet({
    hsts,
    contentSecurityPolicy: {
      directives: {
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'script-src': ["'self'"],
        // Over plain HTTP (no TLS here, e.g. http://api.internal:3000/docs) helmet's default would make
        // the browser fetch the page's scripts over HTTPS, which nobody serves: a blank page. Behind a
        // TLS-terminating proxy, the proxy adds HSTS/upgrade policies itself.
        'upgrade-insecure-requests': config.tls ? [] : null,
      },
    },
  });
  // The AdminJS panel renders its state into inline scripts and styles inline (styled-components);
  // everything else stays same-origin. Referrer `same-origin` lets the panel's CSRF check see its own pages.
  const admin = helmet({
    hsts,
    referrerPolicy: { policy: 'same-origin' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'", "'unsafe-inline'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
      },
    },
  });
  // The live dashboard: its own files only — no inline script or style, no CDN. `connect-src 'self'`
  // covers the API and the Socket.IO connection (polling, and the WebSocket: CSP3 matches ws/wss
  // of the page's own host under 'self'). Chart.js sizes its canvas through the CSSOM, which
  // style-src does not govern.
  const dashboard = helmet({
    hsts,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'connect-src': ["'self'"],
        'base-uri': ["'none'"],
        'form-action': ["'none'"],
        'frame-ancestors': ["'none'"],
        'upgrade-insecure-requests': config.tls ? [] : null,
      },
    },
  });
  const under = (p: string, root: string) => p === root || p.startsWith(`${root}/`);
  return (req, res, next) =>
    (under(req.path, '/docs') ? docs : under(req.path, '/admin') ? admin : under(req.path, '/dashboard') ? dashboard : api)(req, res, next);
}
