// The queue's view lives in the URL: /tickets?status=NEW,IN_PROGRESS&severity=
// CRITICAL&assignee=me&q=… (+ source, tag, observable, createdAfter,
// createdBefore, sort, columns). Lists are comma-separated; unknown values
// are dropped, so any link parses to a valid view.
import type { OrderDirection, Severity, Source, Status, TicketFilter, TicketOrderField } from '../gql/graphql';

export const STATUSES: readonly Status[] = ['NEW', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CLOSED'];
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
export const SOURCES: readonly Source[] = ['MANUAL', 'WEBHOOK', 'SYSLOG'];
export const COLUMN_IDS = [
  'number',
  'severity',
  'status',
  'title',
  'assignee',
  'source',
  'sourceIp',
  'destinationIp',
  'tags',
  'alerts',
  'created',
  'updated',
] as const;
export type ColumnId = (typeof COLUMN_IDS)[number];
export const DEFAULT_COLUMNS: readonly ColumnId[] = [
  'number',
  'severity',
  'status',
  'title',
  'assignee',
  'sourceIp',
  'alerts',
  'created',
];
export const SORTS = ['-created', 'created', '-updated', '-severity', 'severity', '-number', 'number'] as const;
export type Sort = (typeof SORTS)[number];
export const DEFAULT_SORT: Sort = '-created';

export interface QueueSearch {
  status?: Status[];
  severity?: Severity[];
  source?: Source[];
  /** `me`, `unassigned` or a username. */
  assignee?: string;
  tag?: string;
  q?: string;
  observable?: string;
  /** YYYY-MM-DD (a day in the user's zone) or an RFC 3339 instant. */
  createdAfter?: string;
  createdBefore?: string;
  sort?: Sort;
  columns?: ColumnId[];
}

const KEYS: readonly (keyof QueueSearch)[] = [
  'status',
  'severity',
  'assignee',
  'source',
  'tag',
  'q',
  'observable',
  'createdAfter',
  'createdBefore',
  'sort',
  'columns',
];

function list<T extends string>(raw: unknown, allowed: readonly T[]): T[] | undefined {
  const parts = (Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : [])
    .map((p) => p.trim())
    .filter((p): p is T => (allowed as readonly string[]).includes(p));
  const unique = [...new Set(parts)];
  return unique.length > 0 ? unique : undefined;
}

function text(raw: unknown, max = 200): string | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const s = String(raw).trim().slice(0, max);
  return s === '' ? undefined : s;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function when(raw: unknown): string | undefined {
  const s = text(raw, 40);
  if (!s) return undefined;
  if (DAY.test(s) && !Number.isNaN(new Date(`${s}T00:00:00`).getTime())) return s;
  if (INSTANT.test(s) && !Number.isNaN(new Date(s).getTime())) return s;
  return undefined;
}

/** The router's validateSearch: raw query values → a valid view. */
export function parseQueueSearch(raw: Record<string, unknown>): QueueSearch {
  const out: QueueSearch = {
    status: list(raw.status, STATUSES),
    severity: list(raw.severity, SEVERITIES),
    source: list(raw.source, SOURCES),
    assignee: text(raw.assignee, 100),
    tag: text(raw.tag, 100),
    q: text(raw.q),
    observable: text(raw.observable, 500),
    createdAfter: when(raw.createdAfter),
    createdBefore: when(raw.createdBefore),
    sort: (SORTS as readonly string[]).includes(String(raw.sort)) ? (raw.sort as Sort) : undefined,
    columns: list(raw.columns, COLUMN_IDS),
  };
  if (out.sort === DEFAULT_SORT) out.sort = undefined;
  for (const k of KEYS) if (out[k] === undefined) delete out[k];
  return out;
}

/** A view → query string (`?…`, or '' for the default view), keys in a fixed order. */
export function stringifyQueueSearch(s: QueueSearch): string {
  const p = new URLSearchParams();
  for (const k of KEYS) {
    const v = s[k];
    if (v === undefined) continue;
    const str = Array.isArray(v) ? v.join(',') : String(v);
    if (str !== '') p.set(k, str);
  }
  const out = p.toString().replace(/%2C/g, ',');
  return out ? `?${out}` : '';
}

function startOfDay(day: string): Date {
  return new Date(`${day}T00:00:00`);
}

/** createdAfter / createdBefore as instants: a day means its local midnight; "before" a day includes that day. */
export function instant(value: string, end: boolean): string {
  if (!DAY.test(value)) return new Date(value).toISOString();
  const d = startOfDay(value);
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

/** The view's GraphQL filter; `me` is the signed-in username. */
export function toTicketFilter(s: QueueSearch, me: string): TicketFilter {
  const f: TicketFilter = {};
  if (s.status) f.status = s.status;
  if (s.severity) f.severity = s.severity;
  if (s.source) f.source = s.source;
  if (s.assignee === 'unassigned') f.unassigned = true;
  else if (s.assignee === 'me') f.assignee = me;
  else if (s.assignee) f.assignee = s.assignee;
  if (s.tag) f.tag = s.tag;
  if (s.q) f.text = s.q;
  if (s.observable) f.observable = s.observable;
  if (s.createdAfter) f.createdAfter = instant(s.createdAfter, false);
  if (s.createdBefore) f.createdBefore = instant(s.createdBefore, true);
  return f;
}

export function toOrder(sort: Sort | undefined): { field: TicketOrderField; direction: OrderDirection } {
  const s = sort ?? DEFAULT_SORT;
  const direction: OrderDirection = s.startsWith('-') ? 'DESC' : 'ASC';
  const name = s.replace(/^-/, '');
  const field: TicketOrderField =
    name === 'updated' ? 'UPDATED_AT' : name === 'severity' ? 'SEVERITY' : name === 'number' ? 'NUMBER' : 'CREATED_AT';
  return { field, direction };
}

export interface MatchableTicket {
  status: Status;
  severity: Severity;
  source: Source;
  assignee?: string | null;
  tags: readonly string[];
  createdAt: string;
  title: string;
  description?: string;
  sourceIp?: string | null;
  destinationIp?: string | null;
  observables?: readonly { value: string }[];
}

/**
 * Whether a ticket as the client has it matches a filter (what the server
 * would answer, except that free text here sees title, description and
 * observables only, not comments). Used to place live tickets.
 */
export function matchesFilter(t: MatchableTicket, f: TicketFilter | null | undefined): boolean {
  if (!f) return true;
  if (f.status && f.status.length > 0 && !f.status.includes(t.status)) return false;
  if (f.severity && f.severity.length > 0 && !f.severity.includes(t.severity)) return false;
  if (f.source && f.source.length > 0 && !f.source.includes(t.source)) return false;
  if (f.assignee != null && t.assignee !== f.assignee) return false;
  if (f.unassigned === true && t.assignee) return false;
  if (f.unassigned === false && !t.assignee) return false;
  if (f.tag != null && !t.tags.includes(f.tag)) return false;
  if (f.tags && !f.tags.every((x) => t.tags.includes(x))) return false;
  const created = new Date(t.createdAt).getTime();
  if (f.createdAfter && created < new Date(f.createdAfter).getTime()) return false;
  if (f.createdBefore && created >= new Date(f.createdBefore).getTime()) return false;
  if (f.observable != null) {
    const v = f.observable;
    const values = [t.sourceIp, t.destinationIp, ...(t.observables ?? []).map((o) => o.value)];
    if (!values.includes(v)) return false;
  }
  if (f.ids && f.ids.length > 0) return false; // id lists are never live-extended
  if (f.text) {
    const hay = [t.title, t.description ?? '', ...(t.observables ?? []).map((o) => o.value)].join(' ').toLowerCase();
    if (!f.text.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
  }
  return true;
}
