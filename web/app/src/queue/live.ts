// Where a ticket that newly matches a view goes among the rows loaded so
// far: a ticket opened live, or changed into the filter (started, raised to
// HIGH, assigned to me…), not only new tickets on top of a newest-first
// first page. Pure, used by the graphcache updater (graphql/cache.ts) and
// unit-tested in live.test.ts.
import type { QueueRowFragment, Severity, TicketOrder } from '../gql/graphql';

const SEVERITY_RANK: Record<Severity, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };
const num = (n: string) => Number(/(\d+)$/.exec(n)?.[1] ?? 0);
const time = (iso: string) => new Date(iso).getTime();

export type Sortable = Pick<QueueRowFragment, 'number' | 'severity' | 'createdAt' | 'updatedAt'>;

/** Negative when `a` comes before `b` in the view's order (ties: newest number first). */
export function compareTickets(a: Sortable, b: Sortable, order: TicketOrder | null | undefined): number {
  const field = order?.field ?? 'CREATED_AT';
  const sign = (order?.direction ?? 'DESC') === 'DESC' ? -1 : 1;
  const d =
    field === 'CREATED_AT'
      ? time(a.createdAt) - time(b.createdAt)
      : field === 'UPDATED_AT'
        ? time(a.updatedAt) - time(b.updatedAt)
        : field === 'SEVERITY'
          ? SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]
          : num(a.number) - num(b.number);
  if (d !== 0) return sign * d;
  return num(b.number) - num(a.number);
}

export interface LoadedPage<T> {
  nodes: readonly T[];
  hasNextPage: boolean;
}

/**
 * The page and index to insert `ticket` at, the pages in their order (first
 * page first). `null` when it is already shown, or when it sorts after
 * every loaded row while more pages remain (it will come with those).
 */
export function placeInPages<T extends Sortable & { id: string }>(
  pages: readonly LoadedPage<T>[],
  ticket: T,
  order: TicketOrder | null | undefined,
): { page: number; index: number } | null {
  if (pages.some((p) => p.nodes.some((n) => n.id === ticket.id))) return null;
  for (let p = 0; p < pages.length; p++) {
    const nodes = pages[p].nodes;
    const index = nodes.findIndex((n) => compareTickets(ticket, n, order) < 0);
    if (index >= 0) return { page: p, index };
  }
  const last = pages.length - 1;
  if (last < 0 || pages[last].hasNextPage) return null;
  return { page: last, index: pages[last].nodes.length };
}

/**
 * How many rows arrived above the first row in view (`firstVisible`, an
 * index into `prev`): the scroll position moves by as many rows so what
 * you look at stays put. A list with none of the previous rows is a new
 * list, not an arrival.
 */
export function insertedAbove(prev: readonly string[], next: readonly string[], firstVisible: number): number {
  if (prev.length === 0) return 0;
  const before = new Set(prev);
  if (!next.some((id) => before.has(id))) return 0;
  let oldSeen = 0;
  let added = 0;
  for (const id of next) {
    if (oldSeen >= firstVisible) break;
    if (before.has(id)) oldSeen++;
    else added++;
  }
  return added;
}
