import { describe, expect, it } from 'vitest';
import { assetBars, change, dailySeries, durationUnit, hourlySeries, ruleBars, severityByStatus, SEVERITY_COLOR } from './shape';

describe('severityByStatus', () => {
  it('makes a severity × open-status matrix with totals, zeros where nothing is', () => {
    const m = severityByStatus([
      { status: 'NEW', severity: 'HIGH', count: 3 },
      { status: 'IN_PROGRESS', severity: 'HIGH', count: 1 },
      { status: 'NEW', severity: 'CRITICAL', count: 2 },
      { status: 'ON_HOLD', severity: 'LOW', count: 4 },
    ]);
    expect(m.statuses).toEqual(['NEW', 'IN_PROGRESS', 'ON_HOLD']);
    expect(m.rows.map((r) => [r.severity, r.counts, r.total])).toEqual([
      ['CRITICAL', [2, 0, 0], 2],
      ['HIGH', [3, 1, 0], 4],
      ['MEDIUM', [0, 0, 0], 0],
      ['LOW', [0, 0, 4], 4],
    ]);
    expect(m.totals).toEqual([5, 1, 4]);
    expect(m.total).toBe(10);
  });

  it('keeps a status the server counts as open beyond the usual three', () => {
    const m = severityByStatus([{ status: 'RESOLVED', severity: 'MEDIUM', count: 1 }]);
    expect(m.statuses).toEqual(['NEW', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED']);
    expect(m.rows[2].counts).toEqual([0, 0, 0, 1]);
  });

  it('an empty answer is all zeros', () => {
    const m = severityByStatus([]);
    expect(m.total).toBe(0);
    expect(m.rows.every((r) => r.total === 0)).toBe(true);
  });

  it('severity colours are Okabe–Ito, one per severity', () => {
    expect(new Set(Object.values(SEVERITY_COLOR)).size).toBe(4);
    expect(SEVERITY_COLOR.CRITICAL).toBe('#D55E00');
  });
});

describe('dailySeries', () => {
  it('sorts days oldest first and turns seconds into hours, null where none', () => {
    const d = dailySeries(
      [
      { day: '2026-12-02', opened: 5, resolved: 1, acknowledged: 2, meanTimeToAcknowledgeSeconds: 5400, meanTimeToResolveSeconds: null },
      { day: '2026-12-01', opened: 2, resolved: 3, acknowledged: 0, meanTimeToAcknowledgeSeconds: null, meanTimeToResolveSeconds: 7200 },
      ],
      '2026-12-01',
      '2026-12-02',
    );
    expect(d.days).toEqual(['2026-12-01', '2026-12-02']);
    expect(d.opened).toEqual([2, 5]);
    expect(d.resolved).toEqual([3, 1]);
    expect(d.mttaHours).toEqual([null, 1.5]);
    expect(d.mttrHours).toEqual([2, null]);
  });
});

describe('dailySeries fills the period', () => {
  it('every day from `from` to `to`, zeros where the server has none', () => {
    const d = dailySeries(
      [{ day: '2026-11-29', opened: 4, resolved: 0, acknowledged: 1, meanTimeToAcknowledgeSeconds: 60, meanTimeToResolveSeconds: null }],
      '2026-11-27',
      '2026-12-01',
    );
    expect(d.days).toEqual(['2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01']);
    expect(d.opened).toEqual([0, 0, 4, 0, 0]);
    expect(d.mttaHours).toEqual([null, null, 0, null, null]);
  });
});

describe('change (this period against the one before)', () => {
  it('a time that went up is worse, with its percent', () => {
    expect(change(150, 100, 'lower')).toEqual({ current: 150, previous: 100, percent: 50, direction: 'up', better: false });
  });
  it('a time that went down is better', () => {
    expect(change(75, 100, 'lower')).toMatchObject({ percent: -25, direction: 'down', better: true });
  });
  it('more resolved is better', () => {
    expect(change(12, 10, 'higher')).toMatchObject({ percent: 20, direction: 'up', better: true });
  });
  it('unchanged is flat, neither better nor worse', () => {
    expect(change(10, 10, 'lower')).toMatchObject({ percent: 0, direction: 'flat', better: null });
  });
  it('more opened is neither better nor worse', () => {
    expect(change(12, 10, 'neutral')).toMatchObject({ percent: 20, direction: 'up', better: null });
  });
  it('from zero: a direction but no percent', () => {
    expect(change(3, 0, 'higher')).toMatchObject({ percent: null, direction: 'up', better: true });
  });
  it('without one of the periods: no trend', () => {
    expect(change(null, 100, 'lower')).toMatchObject({ direction: null, percent: null, better: null });
    expect(change(100, undefined, 'lower')).toMatchObject({ direction: null, previous: null });
  });
});

describe('hourlySeries', () => {
  const now = new Date('2026-12-02T13:25:00Z');
  it('fills every hour of the window, oldest first, ending with the current hour', () => {
    const h = hourlySeries(
      [
        { start: '2026-12-02T13:00:00Z', count: 7 },
        { start: '2026-12-02T11:00:00Z', count: 2 },
      ],
      [{ start: '2026-12-02T12:00:00+00:00', count: 1 }],
      4,
      now,
    );
    expect(h.starts).toEqual(['2026-12-02T10:00:00.000Z', '2026-12-02T11:00:00.000Z', '2026-12-02T12:00:00.000Z', '2026-12-02T13:00:00.000Z']);
    expect(h.alerts).toEqual([0, 2, 0, 7]);
    expect(h.deadLetters).toEqual([0, 0, 1, 0]);
  });
  it('drops buckets outside the window and bad dates', () => {
    const h = hourlySeries(
      [
        { start: '2026-12-01T00:00:00Z', count: 9 },
        { start: 'not a date', count: 9 },
        { start: '2026-12-02T15:00:00Z', count: 9 },
      ],
      [],
      2,
      now,
    );
    expect(h.alerts).toEqual([0, 0]);
  });
  it('24 hours for a day, 2,160 for 90 days', () => {
    expect(hourlySeries([], [], 24, now).starts).toHaveLength(24);
    expect(hourlySeries([], [], 2160, now).starts).toHaveLength(2160);
  });
});

describe('top bars', () => {
  it('rules by tickets, then alerts, then name', () => {
    const r = ruleBars([
      { ruleName: 'b', tickets: 2, alerts: 9 },
      { ruleName: 'a', tickets: 5, alerts: 1 },
      { ruleName: 'c', tickets: 2, alerts: 9 },
      { ruleName: 'd', tickets: 2, alerts: 10 },
    ]);
    expect(r.map((x) => x.label)).toEqual(['a', 'd', 'b', 'c']);
  });
  it('assets by their hostname when the CMDB has one, the address otherwise', () => {
    const a = assetBars([
      { destinationIp: '10.0.0.2', hostname: null, tickets: 1, alerts: 1 },
      { destinationIp: '10.0.0.1', hostname: 'web-01', tickets: 4, alerts: 6 },
    ]);
    expect(a).toEqual([
      { label: 'web-01', detail: '10.0.0.1', tickets: 4, alerts: 6 },
      { label: '10.0.0.2', detail: null, tickets: 1, alerts: 1 },
    ]);
  });
});

describe('durationUnit', () => {
  it('picks the largest unit that reads well', () => {
    expect(durationUnit(42)).toEqual({ value: 42, unit: 'second' });
    expect(durationUnit(90)).toEqual({ value: 1.5, unit: 'minute' });
    expect(durationUnit(5400)).toEqual({ value: 1.5, unit: 'hour' });
    expect(durationUnit(86_400 * 3)).toEqual({ value: 3, unit: 'day' });
  });
});
