// The one-line summary of every event type the domain writes, in Spanish and
// English, from payloads shaped as ticketHistory gives them.
import { afterAll, describe, expect, it } from 'vitest';
import i18n from '../i18n';
import { changeValue, EVENT_TYPES, quote, renderSummary, type EventType } from './summary';

const at = '2026-12-01T10:00:00Z';
const PAYLOADS: Record<EventType, Record<string, unknown>> = {
  TicketOpened: { number: 'SOC-7', title: 'Fuerza bruta SSH', severity: 'HIGH', origin: { rule_name: 'SSH brute force' }, escalated_from: 'MEDIUM', by: 'ana', at },
  TicketAssigned: { assignee: 'luis', assignee_name: 'Luis Pérez', previous: 'marta', by: 'ana', at },
  TicketUnassigned: { previous: 'luis', by: 'ana', at },
  WorkStarted: { by: 'ana', at },
  TicketPutOnHold: { reason: 'esperando\\nal cliente', by: 'ana', at },
  WorkResumed: { by: 'ana', at },
  TicketResolved: { from: 'IN_PROGRESS', resolution: 'FALSE_POSITIVE', summary: 'ok', duplicate_of: null, duplicate_of_number: null, by: 'ana', at },
  TicketClosed: { note: '', by: 'lead', at },
  TicketReopened: { from: 'CLOSED', reason: 'volvió', previous_resolution: 'BENIGN', by: 'lead', at },
  SeverityChanged: { from: 'HIGH', to: 'LOW', reason: 'ruido', by: 'ana', at },
  CommentAdded: { comment_id: 'c1', body: 'hola', by: 'ana', at },
  TagsAdded: { tags: ['phishing', 'vip'], by: 'ana', at },
  TagsRemoved: { tags: ['vip'], by: 'ana', at },
  ObservableAdded: { kind: 'DOMAIN', value: 'evil.example', by: 'ana', at },
  AlertsCorrelated: { batch: { count: 3, first_seen: at, last_seen: at, samples: [] }, by: 'siem-client', at },
  SiemIncidentUpdated: { incident_id: 'INC-9', status: 'Cleared', repeat_count: 2, raw: null, by: 'siem-client', at },
};

const EXPECTED: Record<'es' | 'en', Record<EventType, string>> = {
  es: {
    TicketOpened: 'ana abrió SOC-7 «Fuerza bruta SSH» desde la regla de alerta «SSH brute force» con severidad Alta, elevada desde Media por un activo crítico',
    TicketAssigned: 'ana reasignó el ticket de marta a Luis Pérez',
    TicketUnassigned: 'ana quitó a luis del ticket',
    WorkStarted: 'ana empezó a trabajar en el ticket',
    TicketPutOnHold: 'ana puso el ticket en espera: esperando\\nal cliente',
    WorkResumed: 'ana reanudó el trabajo en el ticket',
    TicketResolved: 'ana resolvió el ticket como falso positivo',
    TicketClosed: 'lead cerró el ticket',
    TicketReopened: 'lead reabrió el ticket: volvió',
    SeverityChanged: 'ana cambió la severidad de Alta a Baja: ruido',
    CommentAdded: 'ana comentó',
    TagsAdded: 'ana añadió las etiquetas phishing, vip',
    TagsRemoved: 'ana quitó la etiqueta vip',
    ObservableAdded: 'ana añadió el observable Dominio evil.example',
    AlertsCorrelated: 'siem-client correlacionó 3 alertas en el ticket',
    SiemIncidentUpdated: 'siem-client informó del incidente INC-9 como Cleared',
  },
  en: {
    TicketOpened: 'ana opened SOC-7 “Fuerza bruta SSH” from alert rule “SSH brute force” with severity High, raised from Medium for a critical asset',
    TicketAssigned: 'ana reassigned the ticket from marta to Luis Pérez',
    TicketUnassigned: 'ana unassigned luis from the ticket',
    WorkStarted: 'ana started work on the ticket',
    TicketPutOnHold: 'ana put the ticket on hold: esperando\\nal cliente',
    WorkResumed: 'ana resumed work on the ticket',
    TicketResolved: 'ana resolved the ticket as a false positive',
    TicketClosed: 'lead closed the ticket',
    TicketReopened: 'lead reopened the ticket: volvió',
    SeverityChanged: 'ana changed the severity from High to Low: ruido',
    CommentAdded: 'ana commented',
    TagsAdded: 'ana added the tags phishing, vip',
    TagsRemoved: 'ana removed the tag vip',
    ObservableAdded: 'ana added the observable Domain evil.example',
    AlertsCorrelated: 'siem-client correlated 3 alerts into the ticket',
    SiemIncidentUpdated: 'siem-client reported incident INC-9 as Cleared',
  },
};

const event = (type: string, payload: unknown, summary = 'server line') => ({ type, actor: 'meta-actor', payload, summary });

describe.each(['es', 'en'] as const)('event summaries in %s', (lang) => {
  afterAll(() => i18n.changeLanguage('es'));
  it.each(EVENT_TYPES)('%s', async (type) => {
    await i18n.changeLanguage(lang);
    expect(renderSummary(event(type, PAYLOADS[type]), i18n.t)).toBe(EXPECTED[lang][type]);
  });
});

describe('event summary variants', () => {
  it('covers every event type of the domain', () => {
    expect(Object.keys(PAYLOADS).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('first assignment, one tag, one alert, a duplicate, a SIEM update without status, a plain opening', async () => {
    for (const lang of ['es', 'en'] as const) {
      await i18n.changeLanguage(lang);
      const r = (type: EventType, p: Record<string, unknown>) => renderSummary(event(type, { by: 'ana', at, ...p }), i18n.t);
      const expected = {
        es: [
          'ana asignó el ticket a luis',
          'ana añadió la etiqueta vip',
          'ana correlacionó 1 alerta en el ticket',
          'ana resolvió el ticket como duplicado de SOC-3',
          'ana actualizó el incidente INC-1',
          'ana abrió SOC-1 «x» con severidad Crítica',
          'ana quitó las etiquetas a, b',
        ],
        en: [
          'ana assigned the ticket to luis',
          'ana added the tag vip',
          'ana correlated 1 alert into the ticket',
          'ana resolved the ticket as a duplicate of SOC-3',
          'ana updated incident INC-1',
          'ana opened SOC-1 “x” with severity Critical',
          'ana removed the tags a, b',
        ],
      }[lang];
      expect([
        r('TicketAssigned', { assignee: 'luis', assignee_name: ' ', previous: null }),
        r('TagsAdded', { tags: ['vip'] }),
        r('AlertsCorrelated', { batch: { count: 1 } }),
        r('TicketResolved', { resolution: 'DUPLICATE', duplicate_of: 'uuid', duplicate_of_number: 'SOC-3' }),
        r('SiemIncidentUpdated', { incident_id: 'INC-1', status: null }),
        r('TicketOpened', { number: 'SOC-1', title: 'x', severity: 'CRITICAL', origin: null, escalated_from: null }),
        r('TagsRemoved', { tags: ['a', 'b'] }),
      ]).toEqual(expected);
    }
    await i18n.changeLanguage('es');
  });

  it('an unknown type or a payload that is not an object shows the server line', () => {
    expect(renderSummary(event('SomethingNew', {}), i18n.t)).toBe('server line');
    expect(renderSummary(event('WorkStarted', null), i18n.t)).toBe('server line');
  });

  it('uses the metadata actor when the payload has no `by`', () => {
    expect(renderSummary(event('WorkStarted', { at }), i18n.t)).toBe('meta-actor empezó a trabajar en el ticket');
  });

  it('quotes free text on one line, cut at 120 characters', () => {
    expect(quote('  two\n\tlines  ')).toBe('two lines');
    const q = quote('palabra '.repeat(40));
    expect([...q]).toHaveLength(121);
    expect(q.endsWith('…')).toBe(true);
    const r = renderSummary(event('TicketPutOnHold', { reason: `a\n${'x'.repeat(300)}`, by: 'ana' }), i18n.t);
    expect(r.startsWith('ana puso el ticket en espera: a x')).toBe(true);
    expect(r).not.toContain('\n');
  });
});

describe('field change values', () => {
  const date = (iso: string) => `D(${iso})`;
  it('enums in the language, instants formatted, lists, comments, nothing', async () => {
    await i18n.changeLanguage('es');
    const t = i18n.t;
    expect(changeValue('status', 'IN_PROGRESS', t, date)).toBe('En progreso');
    expect(changeValue('severity', 'LOW', t, date)).toBe('Baja');
    expect(changeValue('resolution', 'BENIGN', t, date)).toBe('Benigno');
    expect(changeValue('acknowledged_at', at, t, date)).toBe(`D(${at})`);
    expect(changeValue('tags', ['a', 'b'], t, date)).toBe('a, b');
    expect(changeValue('tags', [], t, date)).toBe('—');
    expect(changeValue('assignee', null, t, date)).toBe('—');
    expect(changeValue('comments', [{ author: 'ana', body: 'hola\nmundo', id: 'c', at }], t, date)).toBe('ana: hola mundo');
    expect(changeValue('observables', [{ kind: 'IP', value: '192.0.2.1' }], t, date)).toBe('IP 192.0.2.1');
    expect(changeValue('alert_count', 4, t, date)).toBe('4');
    expect(changeValue('destination_asset', { hostname: 'web01', network: '10.0.0.1/32', owner: 'it' }, t, date)).toBe('web01 · 10.0.0.1/32 · it');
  });
});
