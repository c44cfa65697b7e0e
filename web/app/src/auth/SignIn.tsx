import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { setLanguage } from '../i18n';
import { session, type Notice } from './session';

export function SignIn({ notice }: { notice?: Notice }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (waitUntil === null) return;
    const h = setInterval(() => {
      const n = Date.now();
      setNow(n);
      if (n >= waitUntil) setWaitUntil(null);
    }, 250);
    return () => clearInterval(h);
  }, [waitUntil]);

  const secondsLeft = waitUntil === null ? 0 : Math.max(0, Math.ceil((waitUntil - now) / 1000));

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!username || !password) {
      setError(t('auth.required'));
      return;
    }
    setBusy(true);
    setError(null);
    const r = await session.signIn(username, password);
    setBusy(false);
    if (r.ok) return;
    if (r.error === 'throttled') {
      const s = Math.max(1, r.retryAfter ?? 1);
      setWaitUntil(Date.now() + s * 1000);
      setNow(Date.now());
      setError('throttled');
    } else if (r.error === 'invalid_credentials') setError(t('auth.invalidCredentials'));
    else if (r.error === 'account_disabled') setError(t('auth.accountDisabled'));
    else if (r.error === 'network') setError(t('errors.network'));
    else setError(t('auth.failed', { detail: r.detail ?? '' }));
  }

  const message =
    error === 'throttled'
      ? secondsLeft > 0
        ? secondsLeft > 120
          ? t('auth.throttledMinutes', { minutes: Math.ceil(secondsLeft / 60) })
          : t('auth.throttled', { seconds: secondsLeft })
        : null
      : error;
  const info =
    !message && notice
      ? notice === 'expired'
        ? t('auth.expired')
        : notice === 'disabled'
          ? t('auth.accountDisabled')
          : t('auth.signedOut')
      : null;

  return (
    <main className="flex min-h-screen items-center justify-center bg-bg px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-3">
          <img src="/favicon.svg" alt="" className="size-9" />
          <div>
            <h1 className="text-lg font-semibold tracking-tight">{t('app.name')}</h1>
            <p className="text-xs text-muted">{t('auth.subtitle')}</p>
          </div>
        </div>
        <form onSubmit={submit} className="panel space-y-4 p-5" aria-labelledby={`${id}-h`} noValidate>
          <h2 id={`${id}-h`} className="text-sm font-semibold">
            {t('auth.title')}
          </h2>
          {info && (
            <p role="status" className="rounded-md border border-line-strong bg-panel-2 px-3 py-2 text-[0.8125rem]">
              {info}
            </p>
          )}
          {message && (
            <p role="alert" className="rounded-md border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
              {message}
            </p>
          )}
          <div>
            <label className="label" htmlFor={`${id}-u`}>
              {t('auth.username')}
            </label>
            <input
              id={`${id}-u`}
              className="input w-full"
              autoComplete="username"
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div>
            <label className="label" htmlFor={`${id}-p`}>
              {t('auth.password')}
            </label>
            <input
              id={`${id}-p`}
              className="input w-full"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <button type="submit" className="btn btn-primary w-full justify-center" disabled={busy || secondsLeft > 0}>
            {busy ? t('auth.submitting') : t('auth.submit')}
          </button>
        </form>
        <div className="mt-4 flex justify-end">
          <label className="sr-only" htmlFor={`${id}-lang`}>
            {t('app.language')}
          </label>
          <select
            id={`${id}-lang`}
            className="input"
            value={i18n.language}
            onChange={(e) => setLanguage(e.target.value as 'es' | 'en')}
          >
            <option value="es">Español</option>
            <option value="en">English</option>
          </select>
        </div>
      </div>
    </main>
  );
}
