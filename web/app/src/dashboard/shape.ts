// Pure shaping of the `stats` answer into what each chart and its table
// show. No React, no ECharts: unit-tested in shape.test.ts.
import type { DashboardQuery as DashboardData, Severity, Status } from '../gql/graphql';

export type Stats = DashboardData['stats'];

// Severity first (the queue's badge order), then the open statuses.
export const SEVERITY_ORDER: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
export const OPEN_STATUSES: readonly Status[] = ['NEW', 'IN_PROGRESS', 'ON_HOLD'];

/**
 * Okabe–Ito (colour-blind safe). Severities keep the hue of the queue's
 * badges: critical vermillion, high orange, medium yellow, low sky blue.
 */
export const OKABE_ITO = {
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
  grey: '#999999',
} as const;
export const SEVERITY_COLOR: Record<Severity, string> = {
  CRITICAL: OKABE_ITO.vermillion,
  HIGH: OKABE_ITO.orange,
  MEDIUM: OKABE_ITO.yellow,
  LOW: OKABE_ITO.skyBlue,
};

export interface SeverityStatusMatrix {
  statuses: Status[];
  /** One row per severity, a count per status of `statuses`. */
  rows: { severity: Severity; counts: number[]; total: number }[];
  totals: number[];
  total: number;
}

/** Open tickets as severity × status; statuses outside the open set but present are kept (after them). */
export function severityByStatus(cells: Stats['openByStatusSeverity']): SeverityStatusMatrix {
  const present = new Set(cells.filter((c) => c.count > 0).map((c) => c.status));
  const statuses: Status[] = [...OPEN_STATUSES, ...[...present].filter((s) => !OPEN_STATUSES.includes(s))];
  const rows = SEVERITY_ORDER.map((severity) => {
    const counts = statuses.map((status) =>
      cells.filter((c) => c.severity === severity && c.status === status).reduce((n, c) => n + c.count, 0),
    );
    return { severity, counts, total: counts.reduce((a, b) => a + b, 0) };
  });
  const totals = statuses.map((_, i) => rows.reduce((n, r) => n + r.counts[i], 0));
  return { statuses, rows, totals, total: totals.reduce((a, b) => a + b, 0) };
}

export interface DailySeries {
  days: string[];
  opened: number[];
  resolved: number[];
  /** Hours (one decimal), null on days without any. */
  mttaHours: (number | null)[];
  mttrHours: (number | null)[];
}

const hours = (s: number | null | undefined) => (s == null ? null : Math.round((s / 3600) * 10) / 10);

const DAY_MS = 86_400_000;

/**
 * Per day from `from` to `to` (UTC days, both included), oldest first; days
 * the server leaves out had nothing (zeros, no mean times).
 */
export function dailySeries(daily: Stats['daily'], from: string, to: string): DailySeries {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  const sorted: Stats['daily'] = [];
  if (!Number.isNaN(start) && !Number.isNaN(end)) {
    for (let t = start; t <= end; t += DAY_MS) {
      const day = new Date(t).toISOString().slice(0, 10);
      sorted.push(
        byDay.get(day) ?? { day, opened: 0, resolved: 0, acknowledged: 0, meanTimeToAcknowledgeSeconds: null, meanTimeToResolveSeconds: null },
      );
    }
  }
  // Days outside the period the server named (none expected) are kept, in order.
  for (const d of daily) if (!sorted.some((s) => s.day === d.day)) sorted.push(d);
  sorted.sort((a, b) => a.day.localeCompare(b.day));
  return {
    days: sorted.map((d) => d.day),
    opened: sorted.map((d) => d.opened),
    resolved: sorted.map((d) => d.resolved),
    mttaHours: sorted.map((d) => hours(d.meanTimeToAcknowledgeSeconds)),
    mttrHours: sorted.map((d) => hours(d.meanTimeToResolveSeconds)),
  };
}

export interface Change {
  current: number | null;
  previous: number | null;
  /** Percent change from previous to current, rounded; null when either is missing or previous is 0. */
  percent: number | null;
  direction: 'up' | 'down' | 'flat' | null;
  /** Whether the change is an improvement (for times, lower is better); null without a direction or when flat. */
  better: boolean | null;
}

/** This period against the one before; `goal`: which way is an improvement (lower for MTTA/MTTR), if any. */
export function change(
  current: number | null | undefined,
  previous: number | null | undefined,
  goal: 'lower' | 'higher' | 'neutral',
): Change {
  const c = current ?? null;
  const p = previous ?? null;
  if (c === null || p === null) return { current: c, previous: p, percent: null, direction: null, better: null };
  const direction = c > p ? 'up' : c < p ? 'down' : 'flat';
  const percent = p === 0 ? null : Math.round(((c - p) / p) * 100);
  const better = direction === 'flat' || goal === 'neutral' ? null : (direction === 'down') === (goal === 'lower');
  return { current: c, previous: p, percent, direction, better };
}

export interface HourlySeries {
  /** Start of each hour (ISO, UTC), oldest first, every hour of the window. */
  starts: string[];
  alerts: number[];
  deadLetters: number[];
}

const HOUR = 3_600_000;

/**
 * Alerts and dead letters per hour over the last `hours` hours up to `now`,
 * every hour present (the server leaves empty hours out: they are 0).
 */
export function hourlySeries(
  alerts: Stats['alerts'],
  deadLetters: Stats['deadLetters'],
  hoursBack: number,
  now: Date,
): HourlySeries {
  const last = Math.floor(now.getTime() / HOUR) * HOUR;
  const first = last - (hoursBack - 1) * HOUR;
  const index = (iso: string) => {
    const t = new Date(iso).getTime();
    if (Number.isNaN(t)) return -1;
    const i = Math.floor((t - first) / HOUR);
    return i >= 0 && i < hoursBack ? i : -1;
  };
  const a = new Array<number>(hoursBack).fill(0);
  const d = new Array<number>(hoursBack).fill(0);
  for (const x of alerts) {
    const i = index(x.start);
    if (i >= 0) a[i] += x.count;
  }
  for (const x of deadLetters) {
    const i = index(x.start);
    if (i >= 0) d[i] += x.count;
  }
  const starts = Array.from({ length: hoursBack }, (_, i) => new Date(first + i * HOUR).toISOString());
  return { starts, alerts: a, deadLetters: d };
}

export interface Bar {
  label: string;
  /** A second line for the table (the address behind a hostname). */
  detail: string | null;
  tickets: number;
  alerts: number;
}

/** Top rules, most tickets first. */
export function ruleBars(rules: Stats['topRules']): Bar[] {
  return [...rules]
    .sort((a, b) => b.tickets - a.tickets || b.alerts - a.alerts || a.ruleName.localeCompare(b.ruleName))
    .map((r) => ({ label: r.ruleName, detail: null, tickets: r.tickets, alerts: r.alerts }));
}

/** Top assets, most tickets first, named by their CMDB hostname when they have one. */
export function assetBars(assets: Stats['topAssets']): Bar[] {
  return [...assets]
    .sort((a, b) => b.tickets - a.tickets || b.alerts - a.alerts || a.destinationIp.localeCompare(b.destinationIp))
    .map((a) => ({
      label: a.hostname ?? a.destinationIp,
      detail: a.hostname ? a.destinationIp : null,
      tickets: a.tickets,
      alerts: a.alerts,
    }));
}

/** A duration in seconds as the largest fitting unit and its value (one decimal). */
export function durationUnit(seconds: number): { value: number; unit: 'second' | 'minute' | 'hour' | 'day' } {
  const abs = Math.abs(seconds);
  const round = (v: number) => Math.round(v * 10) / 10;
  if (abs < 60) return { value: round(seconds), unit: 'second' };
  if (abs < 3600) return { value: round(seconds / 60), unit: 'minute' };
  if (abs < 172_800) return { value: round(seconds / 3600), unit: 'hour' };
  return { value: round(seconds / 86_400), unit: 'day' };
}
