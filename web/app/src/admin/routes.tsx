// The /admin/… routes. Their components are a chunk of their own, loaded
// when an admin opens a console: not part of the initial JavaScript.
import { createRoute, lazyRouteComponent, Navigate, type AnyRoute } from '@tanstack/react-router';

export function adminRoutes<R extends AnyRoute>(parent: () => R) {
  const admin = createRoute({
    getParentRoute: parent,
    path: '/admin',
    component: lazyRouteComponent(() => import('./AdminLayout'), 'AdminLayout'),
  });
  const index = createRoute({ getParentRoute: () => admin, path: '/', component: () => <Navigate to="/admin/users" replace /> });
  const users = createRoute({
    getParentRoute: () => admin,
    path: '/users',
    component: lazyRouteComponent(() => import('./UsersConsole'), 'UsersConsole'),
  });
  const clients = createRoute({
    getParentRoute: () => admin,
    path: '/clients',
    component: lazyRouteComponent(() => import('./ClientsConsole'), 'ClientsConsole'),
  });
  const assets = createRoute({
    getParentRoute: () => admin,
    path: '/assets',
    validateSearch: (raw: Record<string, unknown>): { q?: string } =>
      typeof raw.q === 'string' && raw.q.trim() ? { q: raw.q.trim() } : {},
    component: lazyRouteComponent(() => import('./AssetsConsole'), 'AssetsConsole'),
  });
  const deadLetters = createRoute({
    getParentRoute: () => admin,
    path: '/dead-letters',
    component: lazyRouteComponent(() => import('./DeadLettersConsole'), 'DeadLettersConsole'),
  });
  return admin.addChildren([index, users, clients, assets, deadLetters]);
}
