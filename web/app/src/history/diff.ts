// What changed between a past version of a ticket and now: the fields an
// auditor compares, each with its value then and now (pure; rendered by
// TimeTravel.tsx).

export interface Comparable {
  title: string;
  description: string;
  status: string;
  severity: string;
  assignee: string | null;
  assigneeName: string | null;
  resolution: string | null;
  resolutionSummary: string | null;
  duplicateOf: string | null;
  tags: readonly string[];
  observables: readonly { kind: string; value: string }[];
  commentCount: number;
  alertCount: number;
  lastSeen: string | null;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

export const DIFF_FIELDS = [
  'title',
  'description',
  'status',
  'severity',
  'assignee',
  'resolution',
  'resolutionSummary',
  'duplicateOf',
  'tags',
  'observables',
  'commentCount',
  'alertCount',
  'lastSeen',
  'acknowledgedAt',
  'resolvedAt',
] as const;
export type DiffField = (typeof DIFF_FIELDS)[number];

export type DiffValue = string | number | readonly string[] | null;

export interface FieldDiff {
  field: DiffField;
  then: DiffValue;
  now: DiffValue;
}

function value(t: Comparable, f: DiffField): DiffValue {
  switch (f) {
    case 'assignee':
      return t.assignee === null ? null : t.assigneeName || t.assignee;
    case 'tags':
      return [...t.tags].sort();
    case 'observables':
      return t.observables.map((o) => `${o.kind} ${o.value}`).sort();
    case 'lastSeen':
    case 'acknowledgedAt':
    case 'resolvedAt': {
      const v = t[f];
      // The same instant may come back with another precision or zone.
      return v === null ? null : new Date(v).toISOString();
    }
    default:
      return t[f];
  }
}

function same(a: DiffValue, b: DiffValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The fields whose value differs between `then` and `now`, in DIFF_FIELDS order. */
export function diffTickets(then: Comparable, now: Comparable): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of DIFF_FIELDS) {
    const a = value(then, field);
    const b = value(now, field);
    // The assignee compares by username; the display name is what is shown.
    const differ = field === 'assignee' ? then.assignee !== now.assignee : !same(a, b);
    if (differ) out.push({ field, then: a, now: b });
  }
  return out;
}
