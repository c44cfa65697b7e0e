// Code-based route tree (no router plugin). Search strings: searchString.ts.
import { createRootRoute, createRoute, createRouter, lazyRouteComponent, Navigate } from '@tanstack/react-router';
import { Shell } from './shell/Shell';
import { QueuePage } from './queue/QueuePage';
import { parseQueueSearch } from './queue/search';
import { parseDashboardSearch } from './dashboard/search';
import { NotFound } from './shell/NotFound';
import { parseSearchString, stringifySearchObject } from './searchString';
import { adminRoutes } from './admin/routes';

const rootRoute = createRootRoute({ component: Shell, notFoundComponent: NotFound });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  component: () => <Navigate to="/tickets" replace />,
});

export const ticketsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tickets',
  validateSearch: parseQueueSearch,
  component: QueuePage,
});

export const ticketRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tickets/$number',
  validateSearch: (raw: Record<string, unknown>): { version?: number; at?: string } => {
    const version = Number(raw.version);
    return {
      ...(Number.isInteger(version) && version > 0 ? { version } : {}),
      ...(typeof raw.at === 'string' && raw.at ? { at: raw.at } : {}),
    };
  },
  // Its own chunk (with the Markdown renderer): not part of the initial JavaScript.
  component: lazyRouteComponent(() => import('./ticket/TicketPage'), 'TicketPage'),
});

export const dashboardRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/dashboard',
  validateSearch: parseDashboardSearch,
  // Its own chunk with ECharts: not part of the initial JavaScript.
  component: lazyRouteComponent(() => import('./dashboard/DashboardPage'), 'DashboardPage'),
});

const routeTree = rootRoute.addChildren([
  indexRoute,
  ticketsRoute,
  ticketRoute,
  dashboardRoute,
  adminRoutes(() => rootRoute),
]);

export const router = createRouter({
  routeTree,
  parseSearch: parseSearchString,
  stringifySearch: stringifySearchObject,
  defaultPreload: false,
  scrollRestoration: false,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
