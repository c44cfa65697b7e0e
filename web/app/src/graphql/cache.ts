// The normalized cache. Tickets are keyed by id, so a ticketEvents or
// ticketUpdated payload patches every list row and page showing that ticket
// in place. New tickets are put at the top of the cached first pages whose
// filter they match (when the order is newest first and they are newer than
// the top row).
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
import { matchesFilter } from '../queue/search';

const embedded = () => null;

export function placeNewTicket(cache: Cache, ticket: QueueRowFragment): void {
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName !== 'tickets') continue;
    const args = (field.arguments ?? {}) as Partial<QueuePageQueryVariables>;
    if (args.after != null || (args.first ?? 0) <= 1) continue;
    const order = args.orderBy as TicketOrder | undefined;
    if (order && !((order.field ?? 'CREATED_AT') === 'CREATED_AT' && (order.direction ?? 'DESC') === 'DESC')) continue;
    if (!matchesFilter(ticket, args.filter as TicketFilter | undefined)) continue;
    cache.updateQuery<QueuePageData, QueuePageQueryVariables>(
      { query: QueuePageQuery, variables: args as QueuePageQueryVariables },
      (data) => {
        if (!data) return data;
        const nodes = data.tickets.nodes;
        if (nodes.some((n) => n.id === ticket.id)) return data;
        const top = nodes[0];
        if (top && new Date(top.createdAt).getTime() > new Date(ticket.createdAt).getTime()) return data;
        return {
          ...data,
          tickets: { ...data.tickets, totalCount: data.tickets.totalCount + 1, nodes: [ticket, ...nodes] },
        };
      },
    );
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
        if (event.ticket) placeNewTicket(cache, event.ticket);
      },
    },
  },
};
