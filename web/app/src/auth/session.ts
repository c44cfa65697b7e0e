// The session: the access token in memory only (never in Web Storage), the
// refresh token in the HttpOnly cookie the token endpoint sets for
// `X-Ticketera-Session: cookie` requests. A reload restores the session with
// a refresh; a timer refreshes shortly before the access token expires.
import type { Role } from './permissions';

export const TOKEN_URL = '/api/v1/auth/token';
export const LOGOUT_URL = '/api/v1/auth/logout';
export const ME_URL = '/api/v1/auth/me';
const SESSION_HEADER = { 'X-Ticketera-Session': 'cookie' };

export interface User {
  name: string;
  kind: string;
  roles: Role[];
}

export type Notice = 'expired' | 'signedOut' | 'disabled';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signedOut'; notice?: Notice }
  | { status: 'signedIn'; token: string; expiresAt: number; user: User };

export type SignInError = 'invalid_credentials' | 'account_disabled' | 'throttled' | 'network' | 'other';
export type SignInResult = { ok: true } | { ok: false; error: SignInError; retryAfter?: number; detail?: string };

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

export interface SessionOptions {
  fetch?: typeof fetch;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Seconds before expiry at which the access token is refreshed. */
export function refreshDelayMs(expiresInSeconds: number): number {
  const margin = Math.min(60, Math.max(5, expiresInSeconds * 0.2));
  return Math.max(1, expiresInSeconds - margin) * 1000;
}

/** The user a JWT access token names (`sub`, `kind`, `roles`), or null when it is not one. */
export function userOfToken(token: string): User | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown; kind?: unknown; roles?: unknown };
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.roles)) return null;
    return { name: claims.sub, kind: typeof claims.kind === 'string' ? claims.kind : 'user', roles: claims.roles as Role[] };
  } catch {
    return null;
  }
}

/**
 * Runs `fn` holding a lock shared by every tab of this origin. Refresh tokens
 * rotate and the server revokes the whole session when a spent one comes
 * back, so two tabs must never refresh with the same cookie at once: in
 * turn, the second sends the cookie the first one received.
 */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks?.request ? locks.request('ticketera-auth-refresh', fn) : fn();
}

export class Session {
  private state: SessionState = { status: 'loading' };
  private listeners = new Set<(s: SessionState) => void>();
  private tokenListeners = new Set<(token: string | null) => void>();
  private timer: unknown = null;
  private inflight: Promise<boolean> | null = null;
  private readonly f: typeof fetch;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(opts: SessionOptions = {}) {
    this.f = opts.fetch ?? ((...args) => fetch(...args));
    this.now = opts.now ?? (() => Date.now());
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get current(): SessionState {
    return this.state;
  }

  token(): string | null {
    return this.state.status === 'signedIn' ? this.state.token : null;
  }

  subscribe(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called with each new access token (and null on sign-out): the WebSocket re-authenticates. */
  onToken(fn: (token: string | null) => void): () => void {
    this.tokenListeners.add(fn);
    return () => this.tokenListeners.delete(fn);
  }

  private set(next: SessionState): void {
    const before = this.token();
    this.state = next;
    for (const l of this.listeners) l(next);
    const after = this.token();
    if (after !== before) for (const l of this.tokenListeners) l(after);
  }

  private schedule(expiresIn: number): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.refresh();
    }, refreshDelayMs(expiresIn));
  }

  private async accept(body: TokenBody): Promise<boolean> {
    // The access token is a JWT naming its subject, kind and roles: read them
    // from it (the server checks them on every request; this only shapes the
    // UI), which spares a round trip to /auth/me before the first screen.
    const user = userOfToken(body.access_token) ?? (await this.fetchMe(body.access_token));
    if (!user) return false;
    this.set({
      status: 'signedIn',
      token: body.access_token,
      expiresAt: this.now() + body.expires_in * 1000,
      user,
    });
    this.schedule(body.expires_in);
    return true;
  }

  private async fetchMe(token: string): Promise<User | null> {
    const res = await this.f(ME_URL, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) return null;
    const me = (await res.json()) as { name: string; kind: string; roles: string[] };
    return { name: me.name, kind: me.kind, roles: me.roles as Role[] };
  }

  /** On page load: the refresh cookie, if any, gives a new access token. */
  async restore(): Promise<void> {
    const ok = await this.refresh({ quiet: true });
    if (!ok && this.state.status === 'loading') this.set({ status: 'signedOut' });
  }

  async signIn(username: string, password: string): Promise<SignInResult> {
    const form = new URLSearchParams({ grant_type: 'password', username, password });
    let res: Response;
    try {
      res = await this.f(TOKEN_URL, {
        method: 'POST',
        headers: { ...SESSION_HEADER, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        credentials: 'same-origin',
      });
    } catch {
      return { ok: false, error: 'network' };
    }
    if (res.ok) {
      const ok = await this.accept((await res.json()) as TokenBody);
      return ok ? { ok: true } : { ok: false, error: 'other', detail: 'me' };
    }
    if (res.status === 429) {
      const retryAfter = Number(res.headers.get('Retry-After') ?? '0');
      return { ok: false, error: 'throttled', retryAfter: Number.isFinite(retryAfter) ? retryAfter : 0 };
    }
    let body: { error?: string; error_description?: string; reason?: string } = {};
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    if (body.reason === 'account_disabled') return { ok: false, error: 'account_disabled' };
    // A name no account can have (400 invalid_username, refused before the
    // throttle) reads to the person like any wrong name.
    if (
      body.reason === 'invalid_credentials' ||
      body.reason === 'invalid_username' ||
      body.error === 'invalid_grant' ||
      res.status === 401
    ) {
      return { ok: false, error: 'invalid_credentials' };
    }
    return { ok: false, error: 'other', detail: body.error_description ?? `HTTP ${res.status}` };
  }

  /**
   * A new access token from the refresh cookie (which the server rotates).
   * Concurrent callers share one request. A 400 means the session is over:
   * signed out with the "expired" notice (unless `quiet`, on page load).
   */
  refresh(opts: { quiet?: boolean } = {}): Promise<boolean> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      try {
        const res = await exclusive(() =>
          this.f(TOKEN_URL, {
            method: 'POST',
            headers: { ...SESSION_HEADER, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=refresh_token',
            credentials: 'same-origin',
          }),
        );
        if (res.ok) return await this.accept((await res.json()) as TokenBody);
        if (res.status >= 400 && res.status < 500) {
          // An account disabled meanwhile is worth saying even on page load:
          // signing in again would not help.
          const reason = await res.json().then(
            (b: { reason?: unknown }) => b.reason,
            () => undefined,
          );
          if (reason === 'account_disabled') this.end('disabled');
          else this.end(opts.quiet || this.state.status !== 'signedIn' ? undefined : 'expired');
          return false;
        }
        this.retrySoon();
        return false;
      } catch {
        // Network trouble: keep the token while it lasts, try again soon.
        this.retrySoon();
        return false;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  private retrySoon(): void {
    if (this.state.status !== 'signedIn') {
      if (this.state.status === 'loading') this.set({ status: 'signedOut' });
      return;
    }
    const left = (this.state.expiresAt - this.now()) / 1000;
    if (left <= 0) {
      this.end('expired');
      return;
    }
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.refresh();
    }, Math.min(10_000, left * 500));
  }

  private end(notice?: Notice): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.set(notice ? { status: 'signedOut', notice } : { status: 'signedOut' });
  }

  /** Ends the session on the server (which clears the cookie), then here. */
  async logout(): Promise<void> {
    const token = this.token();
    try {
      await this.f(LOGOUT_URL, {
        method: 'POST',
        headers: {
          ...SESSION_HEADER,
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: '',
        credentials: 'same-origin',
      });
    } catch {
      // signed out here anyway
    }
    this.end('signedOut');
  }

  /** A fetch with the access token; on a 401 one refresh and one retry. */
  async authFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    const original = input instanceof Request ? input.clone() : null;
    const make = (token: string | null): [RequestInfo | URL, RequestInit] => {
      if (original) {
        const req = original.clone();
        const headers = new Headers(req.headers);
        if (token) headers.set('Authorization', `Bearer ${token}`);
        return [new Request(req, { headers }), init];
      }
      const headers = new Headers(init.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      return [input, { ...init, headers }];
    };
    const res = await this.f(...make(this.token()));
    if (res.status !== 401 || this.state.status !== 'signedIn') return res;
    if (!(await this.refresh())) return res;
    return this.f(...make(this.token()));
  }
}

export const session = new Session();
