// The admin area: its own navigation between the consoles, and for anyone
// who is not an admin (who typed or followed the URL) a page saying so.
import { Link, Outlet } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { canSeeConsole, visibleConsoles, type AdminConsole } from '../auth/permissions';
import { useUser } from '../auth/useSession';
import type { ReactNode } from 'react';

export const CONSOLE_PATH: Record<AdminConsole, '/admin/users' | '/admin/clients' | '/admin/assets' | '/admin/dead-letters'> = {
  users: '/admin/users',
  clients: '/admin/clients',
  assets: '/admin/assets',
  deadLetters: '/admin/dead-letters',
};

export function NoPermission() {
  const { t } = useTranslation();
  return (
    <div className="p-8">
      <h1 className="mb-2 text-base font-semibold">{t('adminConsole.noPermission.title')}</h1>
      <p className="mb-4 text-[0.8125rem] text-muted">{t('adminConsole.noPermission.body')}</p>
      <Link to="/tickets" search={{}} className="btn">
        {t('app.backToQueue')}
      </Link>
    </div>
  );
}

export function AdminLayout() {
  const { t } = useTranslation();
  const user = useUser();
  const consoles = visibleConsoles(user.roles);
  if (consoles.length === 0) return <NoPermission />;
  return (
    <div className="flex h-full flex-col">
      <nav aria-label={t('adminConsole.nav')} className="flex shrink-0 items-center gap-1 border-b border-line bg-panel-2 px-3 py-1">
        {consoles.map((c) => (
          <Link
            key={c}
            to={CONSOLE_PATH[c]}
            className="rounded px-2 py-1 text-[0.8125rem] text-muted no-underline hover:bg-raised hover:text-fg"
            activeProps={{ className: 'bg-raised !text-fg', 'aria-current': 'page' }}
          >
            {t(`adminConsole.consoles.${c}`)}
          </Link>
        ))}
      </nav>
      <div className="min-h-0 flex-1 overflow-auto">
        <Outlet />
      </div>
    </div>
  );
}

/** A console's body, or the no-permission page for a role without its action. */
export function ConsoleGate({ console, children }: { console: AdminConsole; children: ReactNode }) {
  const user = useUser();
  return canSeeConsole(user.roles, console) ? <>{children}</> : <NoPermission />;
}
