/**
 * The HTTP side of the dashboard: sign-in, tokens kept in memory only (a reload signs out; nothing
 * secret in localStorage), a silent refresh a minute before the access token expires, and one
 * `request` that retries once through a refresh when the server answers 401.
 */
export interface Profile {
  id: string;
  email: string;
  name: string | null;
  currency: string;
  timeZone: string;
}

interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: Profile;
}

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem from the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly errors: FieldError[] = [],
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

async function problem(res: Response): Promise<ApiError> {
  let body: { title?: string; detail?: string; code?: string; errors?: FieldError[] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: the status says enough
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, body.code, body.detail ?? body.title ?? `HTTP ${res.status}`, body.errors ?? [], Number.isFinite(retry) ? retry : undefined);
}

/** Refresh this long before the access token's expiry. */
const REFRESH_MARGIN_S = 60;

export interface Session {
  readonly profile: Profile | undefined;
  accessToken(): string | undefined;
  login(email: string, password: string, totp?: string): Promise<Profile>;
  /** A new access token; concurrent callers share one refresh (a spent refresh token revokes the login). */
  refresh(): Promise<string>;
  /** Forgets the tokens here; with `remote`, also ends the login on the server (POST /auth/logout). */
  logout(remote?: boolean): Promise<void>;
  request<T>(path: string, init?: { method?: string; json?: unknown; headers?: Record<string, string> }): Promise<T>;
  /** Called with every new access token (the socket re-authenticates with it); returns an unsubscribe. */
  onToken(listener: (token: string) => void): () => void;
  /** Called when the login ended (refresh refused, logout): the page goes back to sign-in. */
  onEnded(listener: (why: string) => void): void;
}

export function createSession(): Session {
  let grant: TokenGrant | undefined;
  let refreshing: Promise<string> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tokenListeners: ((token: string) => void)[] = [];
  const endListeners: ((why: string) => void)[] = [];

  const adopt = (g: TokenGrant) => {
    grant = g;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void session.refresh().catch(() => undefined), Math.max(5, g.expiresIn - REFRESH_MARGIN_S) * 1000);
    for (const l of tokenListeners) l(g.accessToken);
  };
  const end = (why: string) => {
    if (!grant) return;
    grant = undefined;
    if (timer) clearTimeout(timer);
    for (const l of endListeners) l(why);
  };

  const post = (path: string, json: unknown, token?: string) =>
    fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(json),
    });

  const session: Session = {
    get profile() {
      return grant?.user;
    },
    accessToken: () => grant?.accessToken,

    async login(email, password, totp) {
      const res = await post('/auth/login', { email, password, ...(totp ? { totp } : {}) });
      if (!res.ok) throw await problem(res);
      adopt((await res.json()) as TokenGrant);
      return grant!.user;
    },

    refresh() {
      refreshing ??= (async () => {
        try {
          const current = grant;
          if (!current) throw new ApiError(401, 'unauthorized', 'Signed out');
          const res = await post('/auth/refresh', { refreshToken: current.refreshToken });
          if (res.status === 401) {
            end('Your session ended. Please sign in again.');
            throw await problem(res);
          }
          if (!res.ok) throw await problem(res);
          const next = (await res.json()) as Omit<TokenGrant, 'user'> & { user?: Profile };
          adopt({ ...next, user: next.user ?? current.user });
          return next.accessToken;
        } finally {
          refreshing = undefined;
        }
      })();
      return refreshing;
    },

    async logout(remote = true) {
      const current = grant;
      end('Signed out.');
      if (remote && current) await post('/auth/logout', { refreshToken: current.refreshToken }, current.accessToken).catch(() => undefined);
    },

    async request<T>(path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
      const send = (token: string | undefined) =>
        fetch(path, {
          method: init.method ?? 'GET',
          headers: {
            ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...init.headers,
          },
          body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
        });
      let res = await send(grant?.accessToken);
      // An access token can expire between refreshes (a laptop asleep): refresh once and retry.
      if (res.status === 401 && grant) res = await send(await session.refresh());
      if (!res.ok) throw await problem(res);
      return (res.status === 204 ? undefined : await res.json()) as T;
    },

    onToken(l) {
      tokenListeners.push(l);
      return () => {
        const i = tokenListeners.indexOf(l);
        if (i >= 0) tokenListeners.splice(i, 1);
      };
    },
    onEnded: (l) => void endListeners.push(l),
  };
  return session;
}
