// The normalized cache. Tickets are keyed by id, so a ticketEvents or
// ticketUpdated payload patches every list row and page showing that ticket
// in place. A ticket that comes to match a cached view's filter (opened, or
// changed into it) is inserted where the view's order puts it among the
// loaded rows (queue/live.ts).
import type { CacheExchangeOpts, Cache } from '@urql/exchange-graphcache';
import type {
  QueuePageQuery as QueuePageData,
  QueuePageQueryVariables,
  QueueRowFragment,
  TicketEventsSubscription as TicketEventsData,
  TicketFilter,
  TicketOrder,
} from '../gql/graphql';
import { QueuePageQuery } from './documents';
import { placeInPages } from '../queue/live';
import { matchesFilter } from '../queue/search';

const embedded = () => null;

/**
 * A ticket that matches a cached view's filter and is not among its loaded
 * rows (opened live, or changed into the filter) is inserted where the
 * view's order puts it, on the loaded page it falls in; a view counts it
 * once more when it is inserted or newly opened.
 */
export function placeNewTicket(cache: Cache, ticket: QueueRowFragment, opened = false): void {
  const views = new Map<string, Partial<QueuePageQueryVariables>[]>();
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName !== 'tickets') continue;
    const args = (field.arguments ?? {}) as Partial<QueuePageQueryVariables>;
    // first: 1 are counts (Counts.tsx), not lists.
    if ((args.first ?? 0) <= 1) continue;
    if (!matchesFilter(ticket, args.filter as TicketFilter | undefined)) continue;
    const key = JSON.stringify([args.filter ?? null, args.orderBy ?? null, args.first]);
    views.set(key, [...(views.get(key) ?? []), args]);
  }
  for (const pagesArgs of views.values()) {
    // The pages in order: the first (no cursor), then each after the previous one's end.
    const read = (args: Partial<QueuePageQueryVariables>) =>
      cache.readQuery<QueuePageData, QueuePageQueryVariables>({ query: QueuePageQuery, variables: args as QueuePageQueryVariables });
    const chain: { args: Partial<QueuePageQueryVariables>; data: QueuePageData }[] = [];
    let after: string | null = null;
    for (;;) {
      const args = pagesArgs.find((a) => (a.after ?? null) === after);
      const data = args ? read(args) : null;
      if (!args || !data) break;
      chain.push({ args, data });
      const next = data.tickets.pageInfo;
      if (!next.hasNextPage || !next.endCursor) break;
      after = next.endCursor;
    }
    if (chain.length === 0) continue;
    const order = chain[0].args.orderBy as TicketOrder | undefined;
    const at = placeInPages(
      chain.map((c, i) => ({
        nodes: c.data.tickets.nodes,
        // A page whose next one is not loaded ends what is shown.
        hasNextPage: c.data.tickets.pageInfo.hasNextPage || i < chain.length - 1,
      })),
      ticket,
      order,
    );
    const shown = chain.some((c) => c.data.tickets.nodes.some((n) => n.id === ticket.id));
    if (shown) continue;
    chain.forEach((c, i) => {
      const insert = at?.page === i;
      const count = at !== null || opened;
      if (!insert && !(count && i === 0)) return;
      cache.updateQuery<QueuePageData, QueuePageQueryVariables>(
        { query: QueuePageQuery, variables: c.args as QueuePageQueryVariables },
        (data) => {
          if (!data) return data;
          const nodes = data.tickets.nodes;
          return {
            ...data,
            tickets: {
              ...data.tickets,
              totalCount: data.tickets.totalCount + (count && i === 0 ? 1 : 0),
              nodes: insert && at ? [...nodes.slice(0, at.index), ticket, ...nodes.slice(at.index)] : nodes,
            },
          };
        },
      );
    });
  }
}

export const cacheConfig: CacheExchangeOpts = {
  keys: {
    Ticket: (t) => (t.id as string) ?? null,
    TicketEvent: (e) => (e.position as string) ?? null,
    User: (u) => (u.username as string) ?? null,
    CmdbAsset: (a) => (a.id as string) ?? null,
    TicketConnection: embedded,
    TicketEdge: embedded,
    PageInfo: embedded,
    Observable: embedded,
    Asset: embedded,
    TicketComment: embedded,
    TimelineEntry: embedded,
    FieldChange: embedded,
    AlertGroup: embedded,
    Me: embedded,
    DashboardStats: embedded,
    StatusSeverityCount: embedded,
    DailyStats: embedded,
    RuleStats: embedded,
    CmdbAssetConnection: embedded,
    CmdbAssetEdge: embedded,
  },
  resolvers: {
    Query: {
      ticket: (_parent, args, cache, info) =>
        args.id ? { __typename: 'Ticket', id: args.id as string } : cache.resolve(info.parentKey, info.fieldName, args),
    },
  },
  updates: {
    Subscription: {
      ticketEvents(result, _args, cache) {
        const event = (result as TicketEventsData).ticketEvents;
        if (!event) return;
        if (event.ticket) placeNewTicket(cache, event.ticket, event.type === 'TicketOpened');
      },
    },
  },
};
