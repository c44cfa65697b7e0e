import { describe, expect, it } from 'vitest';
import type { TicketOrder } from '../gql/graphql';
import { compareTickets, insertedAbove, placeInPages, type Sortable } from './live';

const t = (n: number, patch: Partial<Sortable> = {}) => ({
  id: `id-${n}`,
  number: `SOC-${n}`,
  severity: 'MEDIUM' as const,
  createdAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
  updatedAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
  ...patch,
});
const NEWEST: TicketOrder = { field: 'CREATED_AT', direction: 'DESC' };

describe('compareTickets', () => {
  it('follows each order of the queue', () => {
    expect(compareTickets(t(2), t(1), NEWEST)).toBeLessThan(0);
    expect(compareTickets(t(2), t(1), { field: 'CREATED_AT', direction: 'ASC' })).toBeGreaterThan(0);
    expect(compareTickets(t(1, { severity: 'CRITICAL' }), t(2, { severity: 'LOW' }), { field: 'SEVERITY', direction: 'DESC' })).toBeLessThan(0);
    expect(compareTickets(t(1, { updatedAt: '2026-12-01T00:00:00Z' }), t(2), { field: 'UPDATED_AT', direction: 'DESC' })).toBeLessThan(0);
    expect(compareTickets(t(10), t(9), { field: 'NUMBER', direction: 'ASC' })).toBeGreaterThan(0);
  });
  it('equal keys: the newest number first', () => {
    expect(compareTickets(t(5), t(4, { severity: 'MEDIUM' }), { field: 'SEVERITY', direction: 'DESC' })).toBeLessThan(0);
  });
});

describe('placeInPages: a ticket newly matching the view', () => {
  const pages = [
    { nodes: [t(9), t(8), t(7)], hasNextPage: true },
    { nodes: [t(5), t(4), t(3)], hasNextPage: true },
  ];
  it('a new ticket goes on top of the first page', () => {
    expect(placeInPages(pages, t(10), NEWEST)).toEqual({ page: 0, index: 0 });
  });
  it('a ticket changed into the filter goes where its order puts it, on a later page too', () => {
    expect(placeInPages(pages, t(6), NEWEST)).toEqual({ page: 1, index: 0 });
    expect(placeInPages(pages, { ...t(8), id: 'id-85', createdAt: new Date(Date.UTC(2026, 10, 1, 0, 8, 30)).toISOString() }, NEWEST)).toEqual({ page: 0, index: 1 });
  });
  it('one past every loaded row waits for its page while more remain', () => {
    expect(placeInPages(pages, t(1), NEWEST)).toBeNull();
  });
  it('with everything loaded it goes last', () => {
    expect(placeInPages([{ nodes: [t(3), t(2)], hasNextPage: false }], t(1), NEWEST)).toEqual({ page: 0, index: 2 });
  });
  it('a ticket already shown is not added again', () => {
    expect(placeInPages(pages, t(8), NEWEST)).toBeNull();
  });
  it('an empty view gets it', () => {
    expect(placeInPages([{ nodes: [], hasNextPage: false }], t(1), NEWEST)).toEqual({ page: 0, index: 0 });
  });
});

describe('insertedAbove: keeping your place', () => {
  it('counts the rows that arrived above the first row in view', () => {
    // Looking at row c (index 2); x arrives above it, y below.
    expect(insertedAbove(['a', 'b', 'c', 'd'], ['a', 'x', 'b', 'c', 'y', 'd'], 2)).toBe(1);
    expect(insertedAbove(['a', 'b', 'c'], ['n', 'm', 'a', 'b', 'c'], 1)).toBe(2);
  });
  it('at the top nothing moves', () => {
    expect(insertedAbove(['a', 'b'], ['n', 'a', 'b'], 0)).toBe(0);
  });
  it('a wholly new list is not an arrival', () => {
    expect(insertedAbove(['a', 'b'], ['c', 'd'], 1)).toBe(0);
    expect(insertedAbove([], ['c', 'd'], 1)).toBe(0);
  });
});
