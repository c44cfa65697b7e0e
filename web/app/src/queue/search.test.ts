import { describe, expect, it } from 'vitest';
import { parseSearchString, stringifySearchObject } from '../searchString';
import { instant, matchesFilter, parseQueueSearch, stringifyQueueSearch, toOrder, toTicketFilter } from './search';

const fromUrl = (qs: string) => parseQueueSearch(parseSearchString(qs));

describe('queue filters ⇄ URL', () => {
  it('parses every filter from the query string', () => {
    const s = fromUrl(
      '?status=NEW,IN_PROGRESS&severity=CRITICAL&assignee=me&source=SYSLOG&tag=phishing&q=ssh%20root&observable=203.0.113.7&createdAfter=2026-11-01&createdBefore=2026-11-30&sort=-severity&columns=number,title,tags',
    );
    expect(s).toEqual({
      status: ['NEW', 'IN_PROGRESS'],
      severity: ['CRITICAL'],
      assignee: 'me',
      source: ['SYSLOG'],
      tag: 'phishing',
      q: 'ssh root',
      observable: '203.0.113.7',
      createdAfter: '2026-11-01',
      createdBefore: '2026-11-30',
      sort: '-severity',
      columns: ['number', 'title', 'tags'],
    });
  });

  it('round-trips: view → URL → the same view', () => {
    const views = [
      {},
      { status: ['NEW' as const], assignee: 'unassigned' },
      { severity: ['HIGH' as const, 'LOW' as const], q: 'a&b=c, d', sort: 'number' as const },
      { observable: '2001:db8::1', createdAfter: '2026-01-02T03:04:05Z', columns: ['number' as const, 'status' as const] },
    ];
    for (const v of views) {
      const qs = stringifyQueueSearch(v);
      expect(fromUrl(qs)).toEqual(v);
      // The router's own serializer writes the same string.
      expect(stringifySearchObject(v as Record<string, unknown>)).toBe(qs);
    }
  });

  it('drops what it does not know and the default sort', () => {
    expect(fromUrl('?status=NEW,BOGUS&severity=nope&sort=-created&columns=evil&createdAfter=yesterday&x=1')).toEqual({
      status: ['NEW'],
    });
    expect(stringifyQueueSearch({})).toBe('');
  });

  it('keeps list order stable and writes commas unescaped', () => {
    expect(stringifyQueueSearch({ severity: ['CRITICAL', 'HIGH'], status: ['NEW'] })).toBe('?status=NEW&severity=CRITICAL,HIGH');
  });

  it('maps a view to the GraphQL filter: me, unassigned, text, days', () => {
    expect(toTicketFilter(fromUrl('?assignee=me'), 'ana')).toEqual({ assignee: 'ana' });
    expect(toTicketFilter(fromUrl('?assignee=unassigned&status=NEW'), 'ana')).toEqual({ unassigned: true, status: ['NEW'] });
    expect(toTicketFilter(fromUrl('?assignee=luis&q=ransom&observable=10.0.0.1&tag=vip'), 'ana')).toEqual({
      assignee: 'luis',
      text: 'ransom',
      observable: '10.0.0.1',
      tag: 'vip',
    });
    const f = toTicketFilter(fromUrl('?createdAfter=2026-11-01&createdBefore=2026-11-01'), 'ana');
    // "until" a day includes that whole day (in the user's zone).
    expect(new Date(f.createdBefore as string).getTime() - new Date(f.createdAfter as string).getTime()).toBe(24 * 3600 * 1000);
    expect(instant('2026-11-01T10:00:00Z', false)).toBe('2026-11-01T10:00:00.000Z');
  });

  it('maps the sort to the order', () => {
    expect(toOrder(undefined)).toEqual({ field: 'CREATED_AT', direction: 'DESC' });
    expect(toOrder('severity')).toEqual({ field: 'SEVERITY', direction: 'ASC' });
    expect(toOrder('-updated')).toEqual({ field: 'UPDATED_AT', direction: 'DESC' });
  });

  it('matches tickets against a filter like the server', () => {
    const t = {
      status: 'NEW' as const,
      severity: 'HIGH' as const,
      source: 'SYSLOG' as const,
      assignee: null,
      tags: ['vip'],
      createdAt: '2026-11-05T10:00:00Z',
      title: 'SSH brute force',
      description: 'from the bastion',
      sourceIp: '203.0.113.7',
      destinationIp: '10.0.0.5',
      observables: [{ value: 'evil.example' }],
    };
    expect(matchesFilter(t, {})).toBe(true);
    expect(matchesFilter(t, { status: ['NEW'], unassigned: true, severity: ['HIGH', 'CRITICAL'] })).toBe(true);
    expect(matchesFilter(t, { status: ['IN_PROGRESS'] })).toBe(false);
    expect(matchesFilter(t, { assignee: 'ana' })).toBe(false);
    expect(matchesFilter(t, { observable: '10.0.0.5' })).toBe(true);
    expect(matchesFilter(t, { observable: 'evil.example' })).toBe(true);
    expect(matchesFilter(t, { observable: '10.0.0.6' })).toBe(false);
    expect(matchesFilter(t, { text: 'ssh BASTION' })).toBe(true);
    expect(matchesFilter(t, { text: 'ssh windows' })).toBe(false);
    expect(matchesFilter(t, { createdAfter: '2026-11-06T00:00:00Z' })).toBe(false);
    expect(matchesFilter(t, { tag: 'vip', source: ['SYSLOG'] })).toBe(true);
  });
});
