import { describe, expect, it } from 'vitest';
import { datePattern, formatDay, parseDay } from './dateText';

describe('queue date fields in the UI language', () => {
  const es = datePattern('es');
  const en = datePattern('en');

  it('Spanish and English (en-GB) read day/month/year', () => {
    expect(es).toEqual({ order: ['day', 'month', 'year'], separator: '/', placeholder: 'dd/mm/aaaa' });
    expect(en.placeholder).toBe('dd/mm/yyyy');
  });

  it('formats the URL day in the pattern', () => {
    expect(formatDay('2026-11-03', es)).toBe('03/11/2026');
    expect(formatDay('2026-11-03T10:00:00Z', es)).toBe('03/11/2026');
    expect(formatDay(undefined, es)).toBe('');
  });

  it('reads what is typed, with any usual separator and one-digit fields', () => {
    expect(parseDay('03/11/2026', es)).toBe('2026-11-03');
    expect(parseDay('3-11-2026', es)).toBe('2026-11-03');
    expect(parseDay(' 3.11.2026 ', es)).toBe('2026-11-03');
    expect(parseDay('', es)).toBeNull();
  });

  it('a month-first date is not silently swapped: 11/30/2026 is no day', () => {
    expect(parseDay('11/30/2026', es)).toBe('invalid');
    expect(parseDay('31/02/2026', es)).toBe('invalid');
    expect(parseDay('03/11/26', es)).toBe('invalid');
    expect(parseDay('ayer', es)).toBe('invalid');
    expect(parseDay('29/02/2028', es)).toBe('2028-02-29');
  });
});
