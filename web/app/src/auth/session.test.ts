import { beforeEach, describe, expect, it, vi } from 'vitest';
import { refreshDelayMs, Session, TOKEN_URL, userOfToken } from './session';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function setup(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let now = 1_000_000;
  const s = new Session({
    fetch: (async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = String(input instanceof Request ? input.url : input);
      calls.push({ url, init });
      return handler(url, init);
    }) as typeof fetch,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
  });
  // A timer that fires is gone, like a real one.
  const fire = () => timers.shift()!.fn();
  return { s, calls, timers, fire, advance: (ms: number) => (now += ms) };
}

const me = () => json(200, { name: 'ana', kind: 'user', roles: ['analyst'], expires_at: 0 });
const token = (n: number, expiresIn = 900) =>
  json(200, { access_token: `access-${n}`, token_type: 'Bearer', expires_in: expiresIn, scope: 'analyst' });
const form = (init: RequestInit) => new URLSearchParams(String(init.body));
const header = (init: RequestInit, name: string) => new Headers(init.headers).get(name);

describe('session', () => {
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
  });

  it('signs in with the password grant and the cookie session header, keeping the token in memory only', async () => {
    const { s, calls } = setup((url, init) => {
      if (url === TOKEN_URL) {
        expect(form(init).get('grant_type')).toBe('password');
        expect(header(init, 'X-Ticketera-Session')).toBe('cookie');
        return token(1);
      }
      expect(header(init, 'Authorization')).toBe('Bearer access-1');
      return me();
    });
    expect(await s.signIn('ana', 'secret-pass')).toEqual({ ok: true });
    expect(s.token()).toBe('access-1');
    expect(s.current).toMatchObject({ status: 'signedIn', user: { name: 'ana', roles: ['analyst'] } });
    expect(calls.map((c) => c.url)).toEqual([TOKEN_URL, '/api/v1/auth/me']);
    expect(localStorage.length + sessionStorage.length).toBe(0);
    expect(document.cookie).toBe('');
  });

  it('reads the user from a JWT access token without asking /auth/me', async () => {
    const b64 = (o: object) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const jwt = `${b64({ alg: 'EdDSA' })}.${b64({ sub: 'luís', kind: 'user', roles: ['lead'], exp: 1 })}.sig`;
    expect(userOfToken(jwt)).toEqual({ name: 'luís', kind: 'user', roles: ['lead'] });
    expect(userOfToken('opaque')).toBeNull();
    const { s, calls } = setup(() => json(200, { access_token: jwt, token_type: 'Bearer', expires_in: 900, scope: 'lead' }));
    expect(await s.signIn('luis', 'secret-pass')).toEqual({ ok: true });
    expect(s.current).toMatchObject({ status: 'signedIn', user: { name: 'luís', roles: ['lead'] } });
    expect(calls.map((c) => c.url)).toEqual([TOKEN_URL]);
  });

  it('tells wrong credentials, a disabled account and throttling apart', async () => {
    const answers = [
      json(400, { error: 'invalid_grant', error_description: 'bad', reason: 'invalid_credentials' }),
      json(400, { error: 'invalid_grant', error_description: 'disabled', reason: 'account_disabled' }),
      json(429, { error: 'slow_down' }, { 'Retry-After': '42' }),
      json(400, { error: 'invalid_request', error_description: 'username: …', reason: 'invalid_username' }),
    ];
    const { s } = setup(() => answers.shift()!);
    expect(await s.signIn('ana', 'x')).toEqual({ ok: false, error: 'invalid_credentials' });
    expect(await s.signIn('ana', 'x')).toEqual({ ok: false, error: 'account_disabled' });
    expect(await s.signIn('ana', 'x')).toEqual({ ok: false, error: 'throttled', retryAfter: 42 });
    expect(await s.signIn('an a', 'x')).toEqual({ ok: false, error: 'invalid_credentials' });
    expect(s.current.status).not.toBe('signedIn');
  });

  it('refreshes silently before expiry, and the WebSocket hears of each new token', async () => {
    let n = 0;
    const { s, timers, fire } = setup((url, init) => {
      if (url !== TOKEN_URL) return me();
      if (n === 0) {
        n++;
        return token(1, 900);
      }
      expect(form(init).get('grant_type')).toBe('refresh_token');
      expect(form(init).has('refresh_token')).toBe(false); // the cookie carries it
      expect(header(init, 'X-Ticketera-Session')).toBe('cookie');
      n++;
      return token(n, 900);
    });
    const tokens: (string | null)[] = [];
    s.onToken((t) => tokens.push(t));
    await s.signIn('ana', 'secret-pass');
    expect(timers).toHaveLength(1);
    expect(timers[0].ms).toBe(refreshDelayMs(900));
    expect(timers[0].ms).toBeLessThan(900_000);
    fire();
    await vi.waitFor(() => expect(s.token()).toBe('access-2'));
    expect(tokens).toEqual(['access-1', 'access-2']);
    // And the next refresh is scheduled.
    expect(timers).toHaveLength(1);
  });

  it('a refused refresh ends the session with the "expired" notice', async () => {
    let first = true;
    const { s, timers, fire } = setup((url) => {
      if (url !== TOKEN_URL) return me();
      if (first) {
        first = false;
        return token(1);
      }
      return json(400, { error: 'invalid_grant', error_description: 'refresh token expired' });
    });
    const tokens: (string | null)[] = [];
    s.onToken((t) => tokens.push(t));
    await s.signIn('ana', 'secret-pass');
    fire();
    await vi.waitFor(() => expect(s.current).toEqual({ status: 'signedOut', notice: 'expired' }));
    expect(s.token()).toBeNull();
    expect(tokens).toEqual(['access-1', null]);
    expect(timers).toHaveLength(0);
  });

  it('a refresh refused because the account was disabled ends the session with the "disabled" notice', async () => {
    let first = true;
    const { s, fire } = setup((url) => {
      if (url !== TOKEN_URL) return me();
      if (first) {
        first = false;
        return token(1);
      }
      return json(400, { error: 'invalid_grant', reason: 'account_disabled' });
    });
    await s.signIn('ana', 'secret-pass');
    fire();
    await vi.waitFor(() => expect(s.current).toEqual({ status: 'signedOut', notice: 'disabled' }));
    expect(s.token()).toBeNull();
  });

  it('restores the session on page load from the refresh cookie, or shows sign-in quietly', async () => {
    const ok = setup((url) => (url === TOKEN_URL ? token(7) : me()));
    await ok.s.restore();
    expect(ok.s.token()).toBe('access-7');
    const none = setup(() => json(400, { error: 'invalid_grant' }));
    await none.s.restore();
    expect(none.s.current).toEqual({ status: 'signedOut' });
  });

  it('concurrent refreshes share one request', async () => {
    const { s, calls } = setup((url) => (url === TOKEN_URL ? token(3) : me()));
    await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect(calls.filter((c) => c.url === TOKEN_URL)).toHaveLength(1);
  });

  it('a network failure keeps the session and retries soon', async () => {
    let fail = false;
    const { s, timers, fire } = setup((url) => {
      if (fail && url === TOKEN_URL) throw new TypeError('network down');
      return url === TOKEN_URL ? token(1, 900) : me();
    });
    await s.signIn('ana', 'secret-pass');
    fail = true;
    fire();
    await vi.waitFor(() => expect(timers).toHaveLength(1));
    expect(s.token()).toBe('access-1');
    expect(timers[0].ms).toBeLessThanOrEqual(10_000);
  });

  it('retries a request once after a 401 with a refreshed token', async () => {
    let n = 0;
    const { s } = setup((url, init) => {
      if (url === TOKEN_URL) return token(++n);
      if (url === '/api/v1/auth/me') return me();
      return header(init, 'Authorization') === 'Bearer access-2' ? json(200, { ok: true }) : json(401, {});
    });
    await s.signIn('ana', 'secret-pass');
    const res = await s.authFetch('/api/v1/me/views');
    expect(res.status).toBe(200);
  });

  it('logout ends the session on the server with the bearer and the cookie header', async () => {
    const { s, calls } = setup((url) => (url === TOKEN_URL ? token(1) : url === '/api/v1/auth/me' ? me() : new Response(null, { status: 204 })));
    await s.signIn('ana', 'secret-pass');
    await s.logout();
    const call = calls[calls.length - 1];
    expect(call.url).toBe('/api/v1/auth/logout');
    expect(header(call.init, 'Authorization')).toBe('Bearer access-1');
    expect(header(call.init, 'X-Ticketera-Session')).toBe('cookie');
    expect(s.current).toEqual({ status: 'signedOut', notice: 'signedOut' });
  });
});
