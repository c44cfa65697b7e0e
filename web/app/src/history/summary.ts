// The one-line summary of a ticket event in the UI's language, rendered
// from its `type` and `payload` (the server's `summary` is the English audit
// line, domain/src/describe.rs; this says the same in Spanish or English),
// and the values of its field-level changes (`TicketEvent.changes`).
import type { TFunction } from 'i18next';

/** Every event type the domain writes (domain/src/event.rs). */
export const EVENT_TYPES = [
  'TicketOpened',
  'TicketAssigned',
  'TicketUnassigned',
  'WorkStarted',
  'TicketPutOnHold',
  'WorkResumed',
  'TicketResolved',
  'TicketClosed',
  'TicketReopened',
  'SeverityChanged',
  'CommentAdded',
  'TagsAdded',
  'TagsRemoved',
  'ObservableAdded',
  'AlertsCorrelated',
  'SiemIncidentUpdated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface SummaryInput {
  type: string;
  actor: string;
  /** The event's fields as `ticketHistory` gives them (today's schema). */
  payload: unknown;
  /** The server's English line: what is shown for a type this UI does not know. */
  summary: string;
}

/** Longest free text quoted, as the server's summary does (QUOTE_MAX). */
export const QUOTE_MAX = 120;

/** Free text on one line, at most QUOTE_MAX characters, then `…`. */
export function quote(text: string): string {
  const one = text.split(/\s+/).filter(Boolean).join(' ');
  const chars = [...one];
  return chars.length <= QUOTE_MAX ? one : `${chars.slice(0, QUOTE_MAX).join('')}…`;
}

type Payload = Record<string, unknown>;
const str = (p: Payload, k: string): string => (typeof p[k] === 'string' ? (p[k] as string) : '');
const obj = (p: Payload, k: string): Payload => (p[k] && typeof p[k] === 'object' ? (p[k] as Payload) : {});
const list = (p: Payload, k: string): string[] => (Array.isArray(p[k]) ? (p[k] as unknown[]).map(String) : []);

function isKnown(type: string): type is EventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}

export function renderSummary(e: SummaryInput, t: TFunction): string {
  if (!isKnown(e.type) || !e.payload || typeof e.payload !== 'object') return e.summary;
  const p = e.payload as Payload;
  const by = str(p, 'by') || e.actor;
  const k = (key: string, vars: Record<string, unknown> = {}) => t(`history.summary.${key}`, { by, ...vars });
  const withReason = (sentence: string, reason: string) =>
    reason.trim() ? t('history.summary.withReason', { sentence, reason: quote(reason) }) : sentence;
  const sev = (s: string) => t(`severity.${s}`, { defaultValue: s });
  switch (e.type) {
    case 'TicketOpened': {
      const rule = str(obj(p, 'origin'), 'rule_name');
      const escalated = str(p, 'escalated_from');
      return k('opened', {
        number: str(p, 'number'),
        title: quote(str(p, 'title')),
        severity: sev(str(p, 'severity')),
        rule: rule ? t('history.summary.openedRule', { rule: quote(rule) }) : '',
        escalated: escalated ? t('history.summary.openedEscalated', { from: sev(escalated) }) : '',
      });
    }
    case 'TicketAssigned': {
      const name = str(p, 'assignee_name').trim() ? str(p, 'assignee_name') : str(p, 'assignee');
      const previous = str(p, 'previous');
      return previous ? k('reassigned', { previous, name }) : k('assigned', { name });
    }
    case 'TicketUnassigned':
      return k('unassigned', { previous: str(p, 'previous') });
    case 'WorkStarted':
      return k('started');
    case 'TicketPutOnHold':
      return withReason(k('onHold'), str(p, 'reason'));
    case 'WorkResumed':
      return k('resumed');
    case 'TicketResolved': {
      const resolution = str(p, 'resolution');
      const of = str(p, 'duplicate_of_number') || str(p, 'duplicate_of');
      if (resolution === 'DUPLICATE' && of) return k('resolvedDuplicate', { of });
      return k('resolved', { resolution: t(`history.summary.resolutionWords.${resolution}`, { defaultValue: resolution }) });
    }
    case 'TicketClosed':
      return withReason(k('closed'), str(p, 'note'));
    case 'TicketReopened':
      return withReason(k('reopened'), str(p, 'reason'));
    case 'SeverityChanged':
      return withReason(k('severity', { from: sev(str(p, 'from')), to: sev(str(p, 'to')) }), str(p, 'reason'));
    case 'CommentAdded':
      return k('commented');
    case 'TagsAdded':
    case 'TagsRemoved': {
      const tags = list(p, 'tags');
      const added = e.type === 'TagsAdded';
      const key = tags.length === 1 ? (added ? 'tagAdded' : 'tagRemoved') : added ? 'tagsAdded' : 'tagsRemoved';
      return k(key, { tags: tags.join(', ') });
    }
    case 'ObservableAdded':
      return k('observable', {
        kind: t(`observableKind.${str(p, 'kind')}`, { defaultValue: str(p, 'kind') }),
        value: quote(str(p, 'value')),
      });
    case 'AlertsCorrelated': {
      const count = Number(obj(p, 'batch').count ?? 0);
      return count === 1 ? k('correlatedOne') : k('correlatedMany', { count });
    }
    case 'SiemIncidentUpdated': {
      const status = str(p, 'status');
      const incident = quote(str(p, 'incident_id'));
      return status.trim() ? k('siemStatus', { incident, status: quote(status) }) : k('siemUpdated', { incident });
    }
  }
}

/** A field name of `FieldChange.field` (replay's naming) in the UI's language. */
export function fieldLabel(field: string, t: TFunction): string {
  return t(`history.field.${field}`, { defaultValue: field });
}

const ENUM_FIELDS: Record<string, string> = { status: 'status', severity: 'severity', resolution: 'resolution' };
const DATE_FIELDS = new Set(['first_seen', 'last_seen', 'acknowledged_at', 'resolved_at', 'created_at', 'updated_at']);

/**
 * One side (`before` or `after`) of a field change, as text: enums in the
 * UI's language, instants through `formatDate`, lists joined, comments as
 * `author: body`, anything else as compact JSON.
 */
export function changeValue(field: string, value: unknown, t: TFunction, formatDate: (iso: string) => string): string {
  if (value === null || value === undefined) return t('history.value.none');
  if (typeof value === 'string') {
    if (!value.trim()) return t('history.value.none');
    if (ENUM_FIELDS[field]) return t(`${ENUM_FIELDS[field]}.${value}`, { defaultValue: value });
    if (DATE_FIELDS.has(field)) return formatDate(value);
    return quote(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return t('history.value.none');
    if (field === 'comments') {
      return value
        .map((c) => {
          const o = (c ?? {}) as Payload;
          return t('history.value.comment', { author: str(o, 'author'), body: quote(str(o, 'body')) });
        })
        .join(' · ');
    }
    if (field === 'observables') {
      return value
        .map((o) => {
          const v = (o ?? {}) as Payload;
          return `${t(`observableKind.${str(v, 'kind')}`, { defaultValue: str(v, 'kind') })} ${str(v, 'value')}`;
        })
        .join(', ');
    }
    if (value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.join(', ');
    if (field === 'alert_samples') return t('history.value.items', { count: value.length });
    return quote(JSON.stringify(value));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const o = value as Payload;
  if (field.endsWith('_asset')) return [str(o, 'hostname'), str(o, 'network'), str(o, 'owner')].filter(Boolean).join(' · ') || quote(JSON.stringify(o));
  return quote(JSON.stringify(o));
}
