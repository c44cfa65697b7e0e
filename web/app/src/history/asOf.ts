// Time travel in the URL: `/tickets/SOC-7?version=4` or `?at=<RFC 3339>`
// (both: whichever is earlier, as ticketAsOf does), so an auditor can paste
// the link into a report; neither is now.

export interface AsOfSearch {
  version?: number;
  at?: string;
}

export type AsOf =
  | { kind: 'now' }
  | { kind: 'past'; version: number | null; at: string | null }
  /** `at` is not an instant: the page says so instead of guessing. */
  | { kind: 'invalid'; version: number | null; raw: string };

// RFC 3339 date-time with a zone (what the server's DateTime takes).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

export function isInstant(raw: string): boolean {
  return RFC3339.test(raw) && !Number.isNaN(new Date(raw.replace(' ', 'T')).getTime());
}

export function parseAsOf(search: AsOfSearch): AsOf {
  const version = Number.isInteger(search.version) && (search.version ?? 0) > 0 ? (search.version as number) : null;
  const raw = typeof search.at === 'string' ? search.at.trim() : '';
  if (raw && !isInstant(raw)) return { kind: 'invalid', version, raw };
  if (version === null && !raw) return { kind: 'now' };
  return { kind: 'past', version, at: raw ? raw.replace(' ', 'T') : null };
}

export function asOfSearch(a: AsOf): AsOfSearch {
  if (a.kind === 'now') return {};
  if (a.kind === 'invalid') return a.version === null ? {} : { version: a.version };
  return { ...(a.version !== null ? { version: a.version } : {}), ...(a.at !== null ? { at: a.at } : {}) };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant as the value of `<input type="datetime-local" step="1">`, in the browser's zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local value (the browser's zone) as an RFC 3339 instant in UTC; null when it is not one. */
export function fromLocalInput(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number);
  const s = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const date = new Date(y, mo - 1, d, h, mi, s, ms);
  // new Date rolls 2026-02-31 over into March: that is not what was typed.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.toISOString().replace('.000Z', 'Z');
}
