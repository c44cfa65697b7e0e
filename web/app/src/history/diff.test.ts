// The difference between a past version and now.
import { describe, expect, it } from 'vitest';
import { diffTickets, type Comparable } from './diff';

const base: Comparable = {
  title: 'SSH',
  description: '',
  status: 'NEW',
  severity: 'HIGH',
  assignee: null,
  assigneeName: null,
  resolution: null,
  resolutionSummary: null,
  duplicateOf: null,
  tags: ['b', 'a'],
  observables: [{ kind: 'IP', value: '192.0.2.1' }],
  commentCount: 0,
  alertCount: 1,
  lastSeen: '2026-12-01T10:00:00Z',
  acknowledgedAt: null,
  resolvedAt: null,
};

describe('diff of two versions', () => {
  it('the same ticket has no difference (tag order, instant precision aside)', () => {
    expect(diffTickets(base, { ...base, tags: ['a', 'b'], lastSeen: '2026-12-01T10:00:00.000+00:00' })).toEqual([]);
  });

  it('lists each changed field with then and now, in a fixed order', () => {
    const now: Comparable = {
      ...base,
      status: 'RESOLVED',
      severity: 'LOW',
      assignee: 'luis',
      assigneeName: 'Luis Pérez',
      resolution: 'FALSE_POSITIVE',
      tags: ['a', 'b', 'c'],
      commentCount: 2,
      resolvedAt: '2026-12-02T08:00:00Z',
    };
    expect(diffTickets(base, now)).toEqual([
      { field: 'status', then: 'NEW', now: 'RESOLVED' },
      { field: 'severity', then: 'HIGH', now: 'LOW' },
      { field: 'assignee', then: null, now: 'Luis Pérez' },
      { field: 'resolution', then: null, now: 'FALSE_POSITIVE' },
      { field: 'tags', then: ['a', 'b'], now: ['a', 'b', 'c'] },
      { field: 'commentCount', then: 0, now: 2 },
      { field: 'resolvedAt', then: null, now: '2026-12-02T08:00:00.000Z' },
    ]);
  });

  it('the assignee compares by username: a new display name alone is no change', () => {
    const then = { ...base, assignee: 'luis', assigneeName: 'Luis' };
    expect(diffTickets(then, { ...then, assigneeName: 'Luis Pérez' })).toEqual([]);
    expect(diffTickets(then, { ...then, assignee: 'marta', assigneeName: 'Marta' })).toEqual([{ field: 'assignee', then: 'Luis', now: 'Marta' }]);
  });

  it('observables as a set', () => {
    const now = { ...base, observables: [{ kind: 'DOMAIN', value: 'x.example' }, { kind: 'IP', value: '192.0.2.1' }] };
    expect(diffTickets(base, now)).toEqual([{ field: 'observables', then: ['IP 192.0.2.1'], now: ['DOMAIN x.example', 'IP 192.0.2.1'] }]);
    expect(diffTickets(now, { ...now, observables: [...now.observables].reverse() })).toEqual([]);
  });
});
