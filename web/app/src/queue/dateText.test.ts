import { describe, expect, it } from 'vitest';
import { datePattern, dateTimePlaceholder, formatDay, formatLocalDateTime, parseDay, parseLocalDateTime } from './dateText';

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

describe('time-travel date-time field in the UI language', () => {
  const es = datePattern('es');
  const en = datePattern('en');

  it('shows an instant as day/month/year and a 24-hour time', () => {
    const iso = new Date(2026, 11, 1, 15, 4, 5).toISOString();
    expect(formatLocalDateTime(iso, es)).toBe('01/12/2026 15:04:05');
    expect(formatLocalDateTime(iso, en)).toBe('01/12/2026 15:04:05');
    expect(formatLocalDateTime('nope', es)).toBe('');
    expect(dateTimePlaceholder(es)).toBe('dd/mm/aaaa hh:mm:ss');
  });

  it('reads what it shows back to the same instant', () => {
    const iso = new Date(2026, 11, 1, 15, 4, 5).toISOString().replace('.000Z', 'Z');
    expect(parseLocalDateTime(formatLocalDateTime(iso, es), es)).toBe(iso);
    expect(parseLocalDateTime('1/12/2026 15:04', es)).toBe(new Date(2026, 11, 1, 15, 4, 0).toISOString().replace('.000Z', 'Z'));
    expect(parseLocalDateTime('01/12/2026 15:04:05.25', es)).toBe(new Date(2026, 11, 1, 15, 4, 5, 250).toISOString());
    expect(parseLocalDateTime('  ', es)).toBeNull();
  });

  it('refuses what is not a date-time', () => {
    expect(parseLocalDateTime('31/02/2026 10:00', es)).toBe('invalid');
    expect(parseLocalDateTime('01/12/2026', es)).toBe('invalid');
    expect(parseLocalDateTime('01/12/2026 24:00', es)).toBe('invalid');
    expect(parseLocalDateTime('01/12/2026 3:00 PM', es)).toBe('invalid');
    expect(parseLocalDateTime('mañana', es)).toBe('invalid');
  });
});
