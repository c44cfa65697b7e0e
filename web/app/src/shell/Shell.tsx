import { Link, Outlet, useNavigate } from '@tanstack/react-router';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { SignIn } from '../auth/SignIn';
import { session } from '../auth/session';
import { useSession } from '../auth/useSession';
import { onLiveState, type LiveState } from '../graphql/client';
import { MeQuery } from '../graphql/documents';
import { LiveFeed, useLiveStart, useLivePaused } from '../graphql/LiveFeed';
import { setLanguage } from '../i18n';
import { CommandPalette } from './CommandPalette';
import { dialogOpen, emitCommand, isTyping, onCommand } from './commands';
import { ShortcutsDialog } from './ShortcutsDialog';
import { Toasts } from '../ui/toast';
import { visibleConsoles } from '../auth/permissions';

export function Shell() {
  const s = useSession();
  const { t } = useTranslation();
  if (s.status === 'loading') {
    return (
      <p role="status" className="p-8 text-muted">
        {t('app.loading')}
      </p>
    );
  }
  if (s.status === 'signedOut') return <SignIn notice={s.notice} />;
  return <SignedIn />;
}

function LiveIndicator() {
  const { t } = useTranslation();
  const paused = useLivePaused();
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => onLiveState(setState), []);
  const label = paused ? t('queue.paused') : state === 'live' ? t('app.live') : state === 'reconnecting' ? t('app.reconnecting') : t('app.offline');
  const color = paused ? 'bg-warn' : state === 'live' ? 'bg-ok' : 'bg-danger';
  return (
    <span role="status" className="flex items-center gap-1.5 text-xs text-muted">
      <span aria-hidden="true" className={`size-2 rounded-full ${color}`} />
      {label}
    </span>
  );
}

function SignedIn() {
  const { t, i18n } = useTranslation();
  const s = useSession();
  const navigate = useNavigate();
  const id = useId();
  const [shortcuts, setShortcuts] = useState(false);
  const [palette, setPalette] = useState(false);
  const [me] = useQuery({ query: MeQuery });
  // The pages render once the live feed knows where to start.
  const start = useLiveStart();
  const user = s.status === 'signedIn' ? s.user : null;
  const display = me.data?.me.displayName || user?.name || '';
  const role = user?.roles[0];

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPalette(true);
        return;
      }
      if (isTyping(e) || dialogOpen() || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        e.preventDefault();
        setShortcuts(true);
      } else if (e.key === '/') {
        e.preventDefault();
        if (!window.location.pathname.startsWith('/tickets') || window.location.pathname !== '/tickets') {
          void navigate({ to: '/tickets', search: {} });
        }
        emitCommand('focus-search');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  useEffect(
    () =>
      onCommand((c) => {
        if (c === 'shortcuts') setShortcuts(true);
        if (c === 'palette') setPalette(true);
      }),
    [],
  );

  return (
    <div className="flex h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-accent-strong focus:px-3 focus:py-2 focus:text-white"
      >
        {t('app.skipToContent')}
      </a>
      {start && <LiveFeed start={start.position} />}
      <header className="flex h-11 shrink-0 items-center gap-4 border-b border-line bg-panel px-3">
        <Link to="/tickets" search={{}} className="flex items-center gap-2 text-fg no-underline">
          <img src="/favicon.svg" alt="" className="size-5" />
          <span className="text-[0.8125rem] font-semibold tracking-tight">{t('app.name')}</span>
        </Link>
        <nav aria-label={t('app.mainNav')} className="flex items-center gap-1">
          <Link
            to="/tickets"
            search={{}}
            className="rounded px-2 py-1 text-[0.8125rem] text-muted no-underline hover:bg-raised hover:text-fg"
            activeProps={{ className: 'bg-raised !text-fg', 'aria-current': 'page' }}
            activeOptions={{ includeSearch: false }}
          >
            {t('app.queue')}
          </Link>
          <Link
            to="/dashboard"
            search={{}}
            className="rounded px-2 py-1 text-[0.8125rem] text-muted no-underline hover:bg-raised hover:text-fg"
            activeProps={{ className: 'bg-raised !text-fg', 'aria-current': 'page' }}
            activeOptions={{ includeSearch: false }}
          >
            {t('app.dashboard')}
          </Link>
          {user && visibleConsoles(user.roles).length > 0 && (
            <Link
              to="/admin"
              className="rounded px-2 py-1 text-[0.8125rem] text-muted no-underline hover:bg-raised hover:text-fg"
              activeProps={{ className: 'bg-raised !text-fg', 'aria-current': 'page' }}
            >
              {t('app.admin')}
            </Link>
          )}
        </nav>
        <div className="ml-auto flex items-center gap-3">
          <LiveIndicator />
          <button type="button" className="btn btn-ghost btn-sm text-muted" onClick={() => setPalette(true)} aria-keyshortcuts="Control+K">
            {t('app.palette')} <span className="kbd">Ctrl K</span>
          </button>
          <button type="button" className="btn btn-ghost btn-sm text-muted" onClick={() => setShortcuts(true)} aria-keyshortcuts="?">
            <span aria-hidden="true" className="kbd">
              ?
            </span>
            <span className="sr-only">{t('app.shortcuts')}</span>
          </button>
          <label className="sr-only" htmlFor={`${id}-lang`}>
            {t('app.language')}
          </label>
          <select
            id={`${id}-lang`}
            className="input !h-7 !text-xs"
            value={i18n.language}
            onChange={(e) => setLanguage(e.target.value as 'es' | 'en')}
          >
            <option value="es">ES</option>
            <option value="en">EN</option>
          </select>
          <span className="hidden text-xs text-muted md:inline" title={user?.name}>
            {t('app.signedInAs', { name: display, role: role ? t(`role.${role}`) : '' })}
          </span>
          <button type="button" className="btn btn-sm" onClick={() => void session.logout()}>
            {t('app.signOut')}
          </button>
        </div>
      </header>
      <main id="main" className="min-h-0 flex-1 overflow-hidden" tabIndex={-1}>
        {start ? (
          <Outlet />
        ) : (
          <p role="status" className="p-8 text-muted">
            {t('app.loading')}
          </p>
        )}
      </main>
      <ShortcutsDialog open={shortcuts} onClose={() => setShortcuts(false)} />
      <CommandPalette open={palette} onClose={() => setPalette(false)} />
      <Toasts />
    </div>
  );
}
