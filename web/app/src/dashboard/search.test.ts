import { describe, expect, it } from 'vitest';
import { parseSearchString, stringifySearchObject } from '../searchString';
import { DEFAULT_DAYS, parseDashboardSearch, rangeOf } from './search';

describe('dashboard search params', () => {
  it('accepts the offered ranges, from the URL string or a number', () => {
    expect(parseDashboardSearch({ days: '30' })).toEqual({ days: 30 });
    expect(parseDashboardSearch({ days: 90 })).toEqual({ days: 90 });
    expect(parseDashboardSearch({ days: '1' })).toEqual({ days: 1 });
  });
  it('the default range is left out of the URL', () => {
    expect(parseDashboardSearch({ days: String(DEFAULT_DAYS) })).toEqual({ days: undefined });
    expect(rangeOf({})).toBe(7);
    // What the router hands over may still hold the raw value.
    expect(rangeOf({ days: '13' })).toBe(7);
  });
  it('anything else is the default', () => {
    for (const days of ['14', '-7', '7.5', 'abc', '', '1e1', ['30'], null]) {
      expect(parseDashboardSearch({ days }), String(days)).toEqual({ days: undefined });
    }
    expect(parseDashboardSearch({ other: 'x' })).toEqual({ days: undefined });
  });
  it('round-trips through the router’s search string', () => {
    const s = stringifySearchObject({ ...parseDashboardSearch({ days: '30' }) });
    expect(s).toBe('?days=30');
    expect(parseDashboardSearch(parseSearchString(s))).toEqual({ days: 30 });
  });
});
