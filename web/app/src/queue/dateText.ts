// Days typed in the UI language's order, not the browser's: Chromium draws
// <input type="date"> in its own application locale (the --lang it was
// started with), ignoring both the page's `lang` and the document language,
// so a Spanish UI in an English browser showed mm/dd/yyyy. The queue's date
// fields are text in the UI language's pattern (es: dd/mm/aaaa), read here.

export interface DatePattern {
  order: ('day' | 'month' | 'year')[];
  separator: string;
  /** What the field shows when empty, e.g. dd/mm/aaaa. */
  placeholder: string;
}

const LETTERS: Record<string, Record<'day' | 'month' | 'year', string>> = {
  es: { day: 'dd', month: 'mm', year: 'aaaa' },
  en: { day: 'dd', month: 'mm', year: 'yyyy' },
};

/** The locale the app formats dates in for a UI language (see ui/format.ts). */
export const dateLocale = (lang: string) => (lang === 'es' ? 'es-ES' : 'en-GB');

export function datePattern(lang: string): DatePattern {
  const parts = new Intl.DateTimeFormat(dateLocale(lang), { day: '2-digit', month: '2-digit', year: 'numeric' }).formatToParts(
    new Date(Date.UTC(2026, 10, 30)),
  );
  const order = parts.filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year').map((p) => p.type as 'day' | 'month' | 'year');
  const separator = parts.find((p) => p.type === 'literal')?.value ?? '/';
  const letters = LETTERS[lang] ?? LETTERS.en;
  return { order, separator, placeholder: order.map((k) => letters[k]).join(separator) };
}

/** YYYY-MM-DD → the pattern's text ('' for none). */
export function formatDay(day: string | undefined, p: DatePattern): string {
  const m = day ? /^(\d{4})-(\d{2})-(\d{2})/.exec(day) : null;
  if (!m) return '';
  const v = { year: m[1], month: m[2], day: m[3] };
  return p.order.map((k) => v[k]).join(p.separator);
}

/**
 * Typed text → YYYY-MM-DD, `null` for empty, or `'invalid'`. Any of / . -
 * or spaces separate; day and month may have one digit; the year has four.
 */
export function parseDay(text: string, p: DatePattern): string | null | 'invalid' {
  const s = text.trim();
  if (s === '') return null;
  const fields = s.split(/[\s/.-]+/);
  if (fields.length !== 3 || !fields.every((f) => /^\d+$/.test(f))) return 'invalid';
  const v: Record<string, number> = {};
  p.order.forEach((k, i) => (v[k] = Number(fields[i])));
  const yearText = fields[p.order.indexOf('year')];
  if (yearText.length !== 4) return 'invalid';
  const d = new Date(Date.UTC(v.year, v.month - 1, v.day));
  if (d.getUTCFullYear() !== v.year || d.getUTCMonth() !== v.month - 1 || d.getUTCDate() !== v.day) return 'invalid';
  return `${String(v.year).padStart(4, '0')}-${String(v.month).padStart(2, '0')}-${String(v.day).padStart(2, '0')}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** What a date-time field shows when empty, e.g. dd/mm/aaaa hh:mm:ss. */
export const dateTimePlaceholder = (p: DatePattern) => `${p.placeholder} hh:mm:ss`;

/** An instant → the pattern's day and a 24-hour time, in the browser's zone ('' for none). */
export function formatLocalDateTime(iso: string | null | undefined, p: DatePattern): string {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return `${formatDay(day, p)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/**
 * Typed text (the pattern's day, then a 24-hour hh:mm or hh:mm:ss[.fff], in
 * the browser's zone) → an RFC 3339 instant in UTC, `null` for empty, or
 * `'invalid'`.
 */
export function parseLocalDateTime(text: string, p: DatePattern): string | null | 'invalid' {
  const s = text.trim();
  if (s === '') return null;
  const m = /^(.*?)[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,3}))?)?$/.exec(s);
  if (!m) return 'invalid';
  const day = parseDay(m[1], p);
  if (day === null || day === 'invalid') return 'invalid';
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), m[4] ? Number(m[4]) : 0];
  if (h > 23 || mi > 59 || sec > 59) return 'invalid';
  const ms = m[5] ? Number(m[5].padEnd(3, '0')) : 0;
  const [y, mo, d] = day.split('-').map(Number);
  const date = new Date(y, mo - 1, d, h, mi, sec, ms);
  // A local time skipped by a daylight-saving change does not exist.
  if (date.getHours() !== h || date.getDate() !== d) return 'invalid';
  return date.toISOString().replace('.000Z', 'Z');
}
