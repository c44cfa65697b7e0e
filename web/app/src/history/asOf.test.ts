// Time travel ⇄ URL search: parse and serialize, and the date-time picker's value.
import { describe, expect, it } from 'vitest';
import { asOfSearch, fromLocalInput, isInstant, parseAsOf, toLocalInput } from './asOf';

describe('as-of URL state', () => {
  it('nothing is now', () => {
    expect(parseAsOf({})).toEqual({ kind: 'now' });
    expect(asOfSearch({ kind: 'now' })).toEqual({});
  });

  it('a version, an instant, or both', () => {
    expect(parseAsOf({ version: 4 })).toEqual({ kind: 'past', version: 4, at: null });
    expect(parseAsOf({ at: '2026-12-01T10:00:00Z' })).toEqual({ kind: 'past', version: null, at: '2026-12-01T10:00:00Z' });
    expect(parseAsOf({ version: 2, at: '2026-12-01T10:00:00.123456+01:00' })).toEqual({
      kind: 'past',
      version: 2,
      at: '2026-12-01T10:00:00.123456+01:00',
    });
  });

  it('round-trips through the search string', () => {
    for (const search of [{}, { version: 7 }, { at: '2026-12-01T10:00:00Z' }, { version: 3, at: '2026-01-31T23:59:59.5-05:00' }]) {
      expect(asOfSearch(parseAsOf(search))).toEqual(search);
    }
  });

  it('an instant that is not one is invalid, not guessed', () => {
    expect(parseAsOf({ at: 'yesterday' })).toEqual({ kind: 'invalid', version: null, raw: 'yesterday' });
    expect(parseAsOf({ at: '2026-12-01' }).kind).toBe('invalid');
    expect(parseAsOf({ at: '2026-12-01T10:00:00' }).kind).toBe('invalid'); // no zone
    expect(parseAsOf({ at: '2026-13-01T10:00:00Z' }).kind).toBe('invalid');
    expect(asOfSearch(parseAsOf({ version: 2, at: 'nope' }))).toEqual({ version: 2 });
  });

  it('ignores a version that is not a positive integer', () => {
    expect(parseAsOf({ version: 0 })).toEqual({ kind: 'now' });
    expect(parseAsOf({ version: 1.5 })).toEqual({ kind: 'now' });
  });

  it('knows an RFC 3339 instant', () => {
    expect(isInstant('2026-12-01T10:00:00Z')).toBe(true);
    expect(isInstant('2026-12-01t10:00Z')).toBe(true);
    expect(isInstant('2026-12-01T10:00:00+0100')).toBe(false);
  });
});

describe('date-time picker value', () => {
  it('local input ⇄ UTC instant', () => {
    const iso = '2026-12-01T10:00:05Z';
    const local = toLocalInput(iso);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(fromLocalInput(local)).toBe(iso);
    expect(fromLocalInput(`${local.slice(0, 16)}`)).toBe('2026-12-01T10:00:00Z');
    expect(fromLocalInput(`${local}.25`)).toBe('2026-12-01T10:00:05.250Z');
  });

  it('refuses what is not a date-time', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('2026-02-31T10:00')).toBeNull();
    expect(fromLocalInput('mañana')).toBeNull();
    expect(toLocalInput('not a date')).toBe('');
  });
});
