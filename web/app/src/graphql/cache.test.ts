// The live patch of a cached list: a ticketEvents payload through the
// graphcache configuration of the app.
import { cacheExchange } from '@urql/exchange-graphcache';
import { Client, makeResult, type Exchange, type Operation, type OperationResult } from 'urql';
import { describe, expect, it } from 'vitest';
import { filter, makeSubject, map, merge, mergeMap, pipe, share, type Subject } from 'wonka';
import type { QueuePageQuery as PageData, QueueRowFragment } from '../gql/graphql';
import { cacheConfig } from './cache';
import { QueuePageQuery, TicketEventsSubscription } from './documents';
import { advanceVariables } from './client';

function row(n: number, patch: Partial<QueueRowFragment> = {}) {
  return {
    __typename: 'Ticket',
    id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    number: `SOC-${n}`,
    title: `Ticket ${n}`,
    description: '',
    status: 'NEW',
    severity: 'HIGH',
    source: 'SYSLOG',
    sourceIp: '203.0.113.7',
    destinationIp: null,
    assignee: null,
    assigneeName: null,
    tags: [],
    observables: [],
    alertCount: 1,
    createdAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
    updatedAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
    version: 1,
    ...patch,
  };
}

function event(position: string, type: string, ticket: ReturnType<typeof row>) {
  return {
    ticketEvents: {
      __typename: 'TicketEvent',
      position,
      sequence: ticket.version,
      ticketId: ticket.id,
      type,
      actor: 'luis',
      recordedAt: ticket.updatedAt,
      summary: type,
      ticket,
    },
  };
}

function setup(pageRows: ReturnType<typeof row>[]) {
  const events: Subject<Record<string, unknown>> = makeSubject();
  const server: Exchange = () => (ops$) => {
    const shared = pipe(ops$, share);
    return merge([
      pipe(
        shared,
        filter((op: Operation) => op.kind === 'query'),
        map((op: Operation) =>
          makeResult(op, {
            data: {
              tickets: {
                __typename: 'TicketConnection',
                totalCount: pageRows.length,
                pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
                nodes: pageRows,
              },
            },
          }),
        ),
      ),
      pipe(
        shared,
        filter((op: Operation) => op.kind === 'subscription'),
        mergeMap((op: Operation) => pipe(events.source, map((data) => makeResult(op, { data })))),
      ),
    ]) as never;
  };
  const client = new Client({ url: '/graphql', exchanges: [cacheExchange(cacheConfig), server] });
  const pages: OperationResult<PageData>[] = [];
  return { client, events, pages };
}

const vars = (filter: Record<string, unknown>) => ({
  first: 50,
  after: null,
  filter,
  orderBy: { field: 'CREATED_AT' as const, direction: 'DESC' as const },
});

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('graphcache live patch', () => {
  it('patches a changed ticket in place and puts a new matching ticket on top', async () => {
    const { client, events, pages } = setup([row(2), row(1)]);
    client.query(QueuePageQuery, vars({ status: ['NEW', 'IN_PROGRESS'] })).subscribe((r) => pages.push(r));
    client.subscription(TicketEventsSubscription, { afterPosition: null }).subscribe(() => {});
    const last = () => pages[pages.length - 1].data!.tickets;
    expect(last().nodes.map((n) => n.number)).toEqual(['SOC-2', 'SOC-1']);

    // SOC-1 is started by someone: same row, new status, same place.
    await tick();
    events.next(event('p1', 'WorkStarted', row(1, { status: 'IN_PROGRESS', assignee: 'luis', version: 2 })));
    await tick();
    expect(last().nodes.map((n) => [n.number, n.status, n.assignee])).toEqual([
      ['SOC-2', 'NEW', null],
      ['SOC-1', 'IN_PROGRESS', 'luis'],
    ]);

    // SOC-3 opens and matches: on top, counted.
    await tick();
    events.next(event('p2', 'TicketOpened', row(3)));
    await tick();
    expect(last().nodes.map((n) => n.number)).toEqual(['SOC-3', 'SOC-2', 'SOC-1']);
    expect(last().totalCount).toBe(3);

    // The same event again (a resend after a reconnect) changes nothing.
    await tick();
    events.next(event('p2', 'TicketOpened', row(3)));
    await tick();
    expect(last().nodes.map((n) => n.number)).toEqual(['SOC-3', 'SOC-2', 'SOC-1']);
    expect(last().totalCount).toBe(3);
  });

  it('leaves lists whose filter the new ticket does not match', async () => {
    const { client, events, pages } = setup([row(2), row(1)]);
    client.query(QueuePageQuery, vars({ severity: ['CRITICAL'] })).subscribe((r) => pages.push(r));
    client.subscription(TicketEventsSubscription, { afterPosition: null }).subscribe(() => {});
    await tick();
    events.next(event('p9', 'TicketOpened', row(9, { severity: 'LOW' })));
    await tick();
    const last = pages[pages.length - 1].data!.tickets;
    expect(last.nodes.map((n) => n.number)).toEqual(['SOC-2', 'SOC-1']);
    expect(last.totalCount).toBe(2);
  });

  it('a ticket changed into the filter joins the list where its order puts it, not only on top', async () => {
    const started = (n: number) => row(n, { status: 'IN_PROGRESS', assignee: 'luis' });
    const { client, events, pages } = setup([started(5), started(2)]);
    client.query(QueuePageQuery, vars({ status: ['IN_PROGRESS'] })).subscribe((r) => pages.push(r));
    client.subscription(TicketEventsSubscription, { afterPosition: null }).subscribe(() => {});
    const last = () => pages[pages.length - 1].data!.tickets;
    await tick();
    // SOC-3 (older than the top row) is started: it now matches.
    events.next(event('p5', 'WorkStarted', { ...started(3), version: 2 }));
    await tick();
    expect(last().nodes.map((n) => n.number)).toEqual(['SOC-5', 'SOC-3', 'SOC-2']);
    expect(last().totalCount).toBe(3);
    // A change that leaves a ticket outside the filter (put on hold) does not add it.
    await tick();
    events.next(event('p6', 'WorkStarted', { ...row(4, { status: 'ON_HOLD' }), version: 2 }));
    await tick();
    expect(last().nodes.map((n) => n.number)).toEqual(['SOC-5', 'SOC-3', 'SOC-2']);
  });

  it('a subscription resent after a reconnect resumes after the last position and version', () => {
    const v: Record<string, unknown> = { afterPosition: null };
    advanceVariables(v, event('p41', 'TicketAssigned', row(4)));
    expect(v.afterPosition).toBe('p41');
    const u: Record<string, unknown> = { id: 'x', afterVersion: 3 };
    advanceVariables(u, { ticketUpdated: { version: 5 } });
    expect(u.afterVersion).toBe(5);
  });
});
