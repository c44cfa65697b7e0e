// The dashboard's period lives in the URL: /dashboard?days=7. Only the
// ranges offered are accepted; anything else is the default, so every link
// parses to a valid view.
export const RANGES = [1, 7, 30, 90] as const;
export type Range = (typeof RANGES)[number];
export const DEFAULT_DAYS: Range = 7;

export interface DashboardSearch {
  days?: Range;
}

/** The router's validateSearch: raw query values → a valid view (the default range left out). */
export function parseDashboardSearch(raw: Record<string, unknown>): DashboardSearch {
  const v = typeof raw.days === 'string' && /^\d+$/.test(raw.days.trim()) ? Number(raw.days) : raw.days;
  const days = RANGES.find((r) => r === v);
  // `days: undefined` rather than no key: the router keeps raw keys the result leaves out.
  return { days: days !== undefined && days !== DEFAULT_DAYS ? days : undefined };
}

/** The period in days (the default when the URL has none). */
export function rangeOf(s: { days?: unknown }): Range {
  return RANGES.find((r) => r === s.days) ?? DEFAULT_DAYS;
}
