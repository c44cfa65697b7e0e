// The leads' live dashboard (/dashboard?days=7): every figure from one
// `stats` query, refetched (throttled) on every ticket event the app's live
// feed delivers. A chunk of its own with ECharts: not in the initial JS.
import { Link } from '@tanstack/react-router';
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useClient } from 'urql';
import type { Severity, Status } from '../gql/graphql';
import { onLiveEvent } from '../graphql/client';
import { dashboardRoute } from '../router';
import { Chart, tooltipRows, type ChartOption } from './Chart';
import { DashboardQuery } from './documents';
import { DEFAULT_DAYS, RANGES, rangeOf, type Range } from './search';
import {
  OKABE_ITO,
  SEVERITY_COLOR,
  assetBars,
  change,
  dailySeries,
  durationUnit,
  hourlySeries,
  ruleBars,
  severityByStatus,
  type Bar,
  type Change,
  type Stats,
} from './shape';
import { throttle } from './throttle';

// At most one stats query a second however many events arrive.
const REFETCH_MS = 1000;
// Dead letters raise no ticket event: a slow refresh keeps them (and the hour buckets) current.
const IDLE_REFRESH_MS = 60_000;

interface Loaded {
  stats: Stats;
  days: Range;
  at: number;
}

function useDashboardStats(days: Range): { loaded: Loaded | null; fetching: boolean; error: string | null } {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [fetching, setFetching] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let minPosition: string | null = null;
    let live = true;
    const t = throttle(async () => {
      setFetching(true);
      const r = await client
        .query(DashboardQuery, { days, hours: days * 24, minPosition }, { requestPolicy: 'network-only' })
        .toPromise();
      if (!live) return;
      setFetching(false);
      if (r.data) {
        setLoaded({ stats: r.data.stats, days, at: Date.now() });
        setError(null);
      } else if (r.error) setError(r.error.message);
    }, REFETCH_MS);
    t.poke();
    const off = onLiveEvent((e) => {
      minPosition = e.position;
      t.poke();
    });
    const idle = setInterval(() => t.poke(), IDLE_REFRESH_MS);
    return () => {
      live = false;
      off();
      clearInterval(idle);
      t.dispose();
    };
  }, [client, days]);

  return { loaded, fetching, error };
}

export function DashboardPage() {
  const { t, i18n } = useTranslation();
  const search = dashboardRoute.useSearch();
  const days = rangeOf(search);
  const { loaded, fetching, error } = useDashboardStats(days);
  const lang = i18n.language;

  return (
    <div className="h-full overflow-y-auto" aria-busy={fetching && !loaded}>
      <div className="flex flex-wrap items-center gap-3 border-b border-line bg-panel px-3 py-2">
        <h1 className="text-sm font-semibold">{t('dashboard.title')}</h1>
        <nav aria-label={t('dashboard.range')} className="flex items-center gap-1">
          {RANGES.map((r) => (
            <Link
              key={r}
              to="/dashboard"
              search={r === DEFAULT_DAYS ? {} : { days: r }}
              aria-current={r === days ? 'page' : undefined}
              aria-label={t('dashboard.rangeOption', { count: r })}
              className={`btn btn-sm no-underline ${r === days ? '!border-accent !bg-raised !text-fg' : 'btn-ghost text-muted'}`}
            >
              {t('dashboard.rangeShort', { count: r })}
            </Link>
          ))}
        </nav>
        <span className="ml-auto text-xs tabular-nums text-muted">
          {fetching && loaded
            ? t('dashboard.updating')
            : loaded
              ? t('dashboard.updated', { time: new Intl.DateTimeFormat(lang, { timeStyle: 'medium' }).format(loaded.at) })
              : ''}
        </span>
      </div>
      {error && (
        <p role="alert" className="border-b border-line bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
          {t('dashboard.error', { detail: error })}
        </p>
      )}
      {loaded ? (
        <Figures loaded={loaded} />
      ) : (
        !error && (
          <p role="status" className="p-6 text-muted">
            {t('dashboard.loading')}
          </p>
        )
      )}
    </div>
  );
}

// ---- formatting ----

function useFormat() {
  const { t, i18n } = useTranslation();
  return useMemo(() => {
    const lang = i18n.language === 'es' ? 'es-ES' : 'en-GB';
    const num = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    const duration = (s: number | null) => {
      if (s === null) return t('dashboard.none');
      const { value, unit } = durationUnit(s);
      return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
    };
    // NaiveDate days are UTC days.
    const dayFmt = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' });
    const day = (d: string) => dayFmt.format(new Date(`${d}T00:00:00Z`));
    const hourFmt = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });
    const dayHourFmt = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    const hour = (iso: string, withDay: boolean) => (withDay ? dayHourFmt : hourFmt).format(new Date(iso));
    return { num: (n: number) => num.format(n), duration, day, hour, t };
  }, [t, i18n.language]);
}

type Format = ReturnType<typeof useFormat>;

const AXIS = {
  axisLine: { lineStyle: { color: '#3a4457' } },
  axisLabel: { color: '#a3acbb' },
  splitLine: { lineStyle: { color: '#283040' } },
};
const TOOLTIP = {
  backgroundColor: '#1f2530',
  borderColor: '#3a4457',
  textStyle: { color: '#e6e9ef' },
  confine: true,
};
const countFmt = new Map<string, Intl.NumberFormat>();
// Counts in the page's language (the tooltip formatter lives outside React).
function count(v: number | null): string {
  if (v === null) return '—';
  const lang = document.documentElement.lang === 'en' ? 'en-GB' : 'es-ES';
  let f = countFmt.get(lang);
  if (!f) countFmt.set(lang, (f = new Intl.NumberFormat(lang)));
  return f.format(v);
}
const LEGEND = { textStyle: { color: '#e6e9ef' }, top: 0 };

function hourOption(labels: string[], id: string, name: string, data: number[], color: string): ChartOption {
  return {
    grid: { left: 44, right: 12, top: 16, bottom: 28 },
    tooltip: { ...TOOLTIP, trigger: 'axis', formatter: tooltipRows(count) },
    xAxis: { type: 'category', data: labels, ...AXIS },
    yAxis: { type: 'value', minInterval: 1, ...AXIS },
    series: [{ type: 'line', id, name, data, showSymbol: false, step: 'middle', areaStyle: { opacity: 0.25 }, itemStyle: { color } }],
  };
}

function barOption(bars: Bar[], color: string, name: string): ChartOption {
  const shown = [...bars].reverse(); // the largest on top
  return {
    grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
    tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: tooltipRows(count) },
    xAxis: { type: 'value', minInterval: 1, ...AXIS },
    yAxis: { type: 'category', data: shown.map((b) => b.label), ...AXIS, axisLabel: { color: '#a3acbb', width: 160, overflow: 'truncate' } },
    series: [{ type: 'bar', id: 'tickets', name, data: shown.map((b) => b.tickets), barMaxWidth: 18, itemStyle: { color } }],
  };
}

// ---- the figures ----

function Figures({ loaded }: { loaded: Loaded }) {
  const f = useFormat();
  const { t } = f;
  const { stats, days } = loaded;
  const matrix = useMemo(() => severityByStatus(stats.openByStatusSeverity), [stats.openByStatusSeverity]);
  const { from, to } = stats.trend.current;
  const daily = useMemo(() => dailySeries(stats.daily, from, to), [stats.daily, from, to]);
  const hourly = useMemo(
    () => hourlySeries(stats.alerts, stats.deadLetters, days * 24, new Date(loaded.at)),
    [stats.alerts, stats.deadLetters, days, loaded.at],
  );
  const rules = useMemo(() => ruleBars(stats.topRules), [stats.topRules]);
  const assets = useMemo(() => assetBars(stats.topAssets), [stats.topAssets]);
  const { current, previous } = stats.trend;
  const mtta = change(current.mtta, previous.mtta, 'lower');
  const mttr = change(current.mttr, previous.mttr, 'lower');
  const opened = change(current.opened, previous.opened, 'neutral');
  const resolved = change(current.resolved, previous.resolved, 'higher');
  const withDay = days > 1;

  const sevName = (s: Severity) => t(`severity.${s}`);
  const statusName = (s: Status) => t(`status.${s}`);

  const matrixOption = useMemo<ChartOption>(
    () => ({
      grid: { left: 40, right: 12, top: 36, bottom: 28 },
      tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: tooltipRows(count) },
      legend: LEGEND,
      xAxis: { type: 'category', data: matrix.statuses.map((st) => t(`status.${st}`)), ...AXIS },
      yAxis: { type: 'value', minInterval: 1, ...AXIS },
      series: matrix.rows.map((r) => ({
        type: 'bar',
        id: r.severity,
        name: t(`severity.${r.severity}`),
        stack: 'open',
        data: r.counts,
        barMaxWidth: 48,
        itemStyle: { color: SEVERITY_COLOR[r.severity] },
        emphasis: { focus: 'series' },
      })),
    }),
    [matrix, t],
  );

  const dayLabels = useMemo(() => daily.days.map(f.day), [daily.days, f]);
  const perDayOption = useMemo<ChartOption>(
    () => ({
      grid: { left: 40, right: 12, top: 36, bottom: 28 },
      tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: tooltipRows(count) },
      legend: LEGEND,
      xAxis: { type: 'category', data: dayLabels, ...AXIS },
      yAxis: { type: 'value', minInterval: 1, ...AXIS },
      series: [
        { type: 'bar', id: 'opened', name: t('dashboard.opened'), data: daily.opened, barMaxWidth: 32, itemStyle: { color: OKABE_ITO.orange } },
        { type: 'bar', id: 'resolved', name: t('dashboard.resolved'), data: daily.resolved, barMaxWidth: 32, itemStyle: { color: OKABE_ITO.bluishGreen } },
      ],
    }),
    [dayLabels, daily, t],
  );

  const timesOption = useMemo<ChartOption>(
    () => ({
      grid: { left: 40, right: 12, top: 36, bottom: 28 },
      tooltip: { ...TOOLTIP, trigger: 'axis', formatter: tooltipRows((v) => (v === null ? '—' : `${f.num(v)} ${t('dashboard.hoursUnit')}`)) },
      legend: LEGEND,
      xAxis: { type: 'category', data: dayLabels, ...AXIS },
      yAxis: { type: 'value', ...AXIS },
      series: [
        { type: 'line', id: 'mtta', name: t('dashboard.mtta'), data: daily.mttaHours, connectNulls: true, symbol: 'circle', itemStyle: { color: OKABE_ITO.skyBlue } },
        { type: 'line', id: 'mttr', name: t('dashboard.mttr'), data: daily.mttrHours, connectNulls: true, symbol: 'diamond', symbolSize: 7, lineStyle: { type: 'dashed' }, itemStyle: { color: OKABE_ITO.reddishPurple } },
      ],
    }),
    [dayLabels, daily, t, f],
  );

  const hourLabels = useMemo(() => hourly.starts.map((s) => f.hour(s, withDay)), [hourly.starts, f, withDay]);
  const throughputOption = useMemo(
    () => hourOption(hourLabels, 'alerts', t('dashboard.alerts'), hourly.alerts, OKABE_ITO.skyBlue),
    [hourLabels, hourly.alerts, t],
  );
  const deadOption = useMemo(
    () => hourOption(hourLabels, 'deadLetters', t('dashboard.deadLetters'), hourly.deadLetters, OKABE_ITO.vermillion),
    [hourLabels, hourly.deadLetters, t],
  );

  const rulesOption = useMemo(() => barOption(rules, OKABE_ITO.blue, t('dashboard.tickets')), [rules, t]);
  const assetsOption = useMemo(() => barOption(assets, OKABE_ITO.orange, t('dashboard.tickets')), [assets, t]);

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const top3 = (bars: Bar[]) => bars.slice(0, 3).map((b) => `${b.label}: ${f.num(b.tickets)}`).join('; ');

  return (
    <div className="grid gap-3 p-3">
      <section aria-label={t('dashboard.title')} className="grid grid-cols-2 gap-3 lg:grid-cols-5">
        <Kpi title={t('dashboard.openTickets')} value={f.num(stats.openTickets)} hint={t('dashboard.openTicketsHint')} testId="open-tickets" />
        <Kpi title={t('dashboard.mtta')} long={t('dashboard.mttaLong')} value={f.duration(mtta.current)} trend={<Trend c={mtta} show={f.duration} />} />
        <Kpi title={t('dashboard.mttr')} long={t('dashboard.mttrLong')} value={f.duration(mttr.current)} trend={<Trend c={mttr} show={f.duration} />} />
        <Kpi title={t('dashboard.opened')} value={f.num(current.opened)} trend={<Trend c={opened} show={(v) => (v === null ? '—' : f.num(v))} />} />
        <Kpi title={t('dashboard.resolved')} value={f.num(current.resolved)} trend={<Trend c={resolved} show={(v) => (v === null ? '—' : f.num(v))} />} />
      </section>

      <div className="grid gap-3 xl:grid-cols-2">
        <Figure
          title={t('dashboard.bySeverityStatus')}
          summary={t('dashboard.bySeverityStatusSummary', {
            total: f.num(matrix.total),
            detail: matrix.rows.map((r) => `${sevName(r.severity)}: ${f.num(r.total)}`).join('; '),
          })}
          option={matrixOption}
          table={
            <DataTable
              head={[t('dashboard.severity'), ...matrix.statuses.map(statusName), t('dashboard.total')]}
              rows={[
                ...matrix.rows.map((r) => [sevName(r.severity), ...r.counts.map(f.num), f.num(r.total)]),
                [t('dashboard.total'), ...matrix.totals.map(f.num), f.num(matrix.total)],
              ]}
            />
          }
        />
        <Figure
          title={t('dashboard.perDay')}
          summary={t('dashboard.perDaySummary', { opened: f.num(sum(daily.opened)), resolved: f.num(sum(daily.resolved)) })}
          option={perDayOption}
          table={
            <DataTable
              head={[t('dashboard.day'), t('dashboard.opened'), t('dashboard.resolved')]}
              rows={daily.days.map((d, i) => [f.day(d), f.num(daily.opened[i]), f.num(daily.resolved[i])])}
            />
          }
        />
        <Figure
          title={t('dashboard.timesPerDay')}
          summary={t('dashboard.timesPerDaySummary', { mtta: f.duration(mtta.current), mttr: f.duration(mttr.current) })}
          option={timesOption}
          table={
            <DataTable
              head={[t('dashboard.day'), t('dashboard.mtta'), t('dashboard.mttr')]}
              rows={daily.days.map((d, i) => [
                f.day(d),
                daily.mttaHours[i] === null ? '—' : `${f.num(daily.mttaHours[i] ?? 0)} ${t('dashboard.hoursUnit')}`,
                daily.mttrHours[i] === null ? '—' : `${f.num(daily.mttrHours[i] ?? 0)} ${t('dashboard.hoursUnit')}`,
              ])}
            />
          }
        />
        <Figure
          title={t('dashboard.throughput')}
          summary={t('dashboard.throughputSummary', { total: f.num(sum(hourly.alerts)), max: f.num(Math.max(0, ...hourly.alerts)) })}
          option={throughputOption}
          table={<HourTable starts={hourly.starts} values={hourly.alerts} label={t('dashboard.alerts')} f={f} withDay={withDay} />}
        />
        <Figure
          title={t('dashboard.deadLetters')}
          summary={t('dashboard.deadLettersSummary', {
            total: f.num(sum(hourly.deadLetters)),
            max: f.num(Math.max(0, ...hourly.deadLetters)),
          })}
          option={deadOption}
          table={<HourTable starts={hourly.starts} values={hourly.deadLetters} label={t('dashboard.deadLetters')} f={f} withDay={withDay} />}
        />
        <Figure
          title={t('dashboard.topRules')}
          summary={t('dashboard.topRulesSummary', { count: rules.length, detail: top3(rules) })}
          option={rulesOption}
          empty={rules.length === 0}
          table={
            <DataTable
              head={[t('dashboard.rule'), t('dashboard.tickets'), t('dashboard.alerts')]}
              rows={rules.map((r) => [r.label, f.num(r.tickets), f.num(r.alerts)])}
            />
          }
        />
        <Figure
          title={t('dashboard.topAssets')}
          summary={t('dashboard.topAssetsSummary', { count: assets.length, detail: top3(assets) })}
          option={assetsOption}
          empty={assets.length === 0}
          table={
            <DataTable
              head={[t('dashboard.asset'), t('dashboard.address'), t('dashboard.tickets'), t('dashboard.alerts')]}
              rows={assets.map((a) => [a.detail ? a.label : '—', a.detail ?? a.label, f.num(a.tickets), f.num(a.alerts)])}
            />
          }
        />
      </div>
    </div>
  );
}

function Kpi({ title, long, value, hint, trend, testId }: { title: string; long?: string; value: string; hint?: string; trend?: ReactNode; testId?: string }) {
  const id = useId();
  return (
    <div className="panel p-3" role="group" aria-labelledby={id} data-testid={testId}>
      <h2 id={id} className="label" title={long}>
        {title}
        {long && <span className="sr-only"> ({long})</span>}
      </h2>
      <p className="text-2xl font-semibold tabular-nums" data-kpi-value="">
        {value}
      </p>
      {hint && <p className="text-xs text-muted">{hint}</p>}
      {trend}
    </div>
  );
}

function Trend({ c, show }: { c: Change; show: (v: number | null) => string }) {
  const { t } = useTranslation();
  if (c.previous === null) return <p className="text-xs text-muted">{t('dashboard.noPrevious')}</p>;
  const arrow = c.direction === 'up' ? '▲' : c.direction === 'down' ? '▼' : '▬';
  const words =
    c.direction === 'flat'
      ? t('dashboard.trendFlat')
      : c.percent === null
        ? t(c.direction === 'up' ? 'dashboard.trendUpNoPercent' : 'dashboard.trendDownNoPercent')
        : t(c.direction === 'up' ? 'dashboard.trendUp' : 'dashboard.trendDown', { percent: Math.abs(c.percent) });
  const tone = c.better === null ? 'text-muted' : c.better ? 'text-ok' : 'text-warn';
  return (
    <p className="text-xs text-muted">
      <span className={tone}>
        <span aria-hidden="true">{arrow} </span>
        {words}
        {c.better !== null && ` (${t(c.better ? 'dashboard.better' : 'dashboard.worse')})`}
      </span>{' '}
      {t('dashboard.vsPrevious', { value: show(c.previous) })}
    </p>
  );
}

function Figure({ title, summary, option, table, empty }: { title: string; summary: string; option: ChartOption; table: ReactNode; empty?: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const [showTable, setShowTable] = useState(false);
  return (
    <section className="panel p-3" aria-labelledby={`${id}-h`}>
      <div className="mb-1 flex items-center gap-2">
        <h2 id={`${id}-h`} className="text-[0.8125rem] font-semibold">
          {title}
        </h2>
        <button
          type="button"
          className="btn btn-ghost btn-sm ml-auto text-muted"
          aria-expanded={showTable}
          aria-controls={`${id}-t`}
          onClick={() => setShowTable((s) => !s)}
        >
          {showTable ? t('dashboard.hideTable') : t('dashboard.showTable')}
        </button>
      </div>
      {empty && <p className="text-xs text-muted">{t('dashboard.empty')}</p>}
      <Chart option={option} label={`${title}. ${summary}`} />
      {/* Always in the accessibility tree; shown on demand. */}
      <div
        id={`${id}-t`}
        className={showTable ? 'mt-2 max-h-64 overflow-auto' : 'sr-only'}
        // Scrollable when shown: reachable by keyboard, named by the chart.
        tabIndex={showTable ? 0 : undefined}
        role={showTable ? 'region' : undefined}
        aria-labelledby={showTable ? `${id}-h` : undefined}
      >
        {table}
      </div>
    </section>
  );
}

function DataTable({ head, rows }: { head: string[]; rows: string[][] }) {
  const { t } = useTranslation();
  return (
    <table className="w-full text-left text-xs tabular-nums">
      <thead>
        <tr>
          {head.map((h, i) => (
            <th key={i} scope="col" className="border-b border-line px-2 py-1 font-semibold text-muted">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={head.length} className="px-2 py-1 text-muted">
              {t('dashboard.empty')}
            </td>
          </tr>
        ) : (
          rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) =>
                j === 0 ? (
                  <th key={j} scope="row" className="border-b border-line px-2 py-1 font-normal">
                    {c}
                  </th>
                ) : (
                  <td key={j} className="border-b border-line px-2 py-1">
                    {c}
                  </td>
                ),
              )}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

function HourTable({ starts, values, label, f, withDay }: { starts: string[]; values: number[]; label: string; f: Format; withDay: boolean }) {
  // Only the hours with something: a 90-day table of zeros says nothing.
  const rows = starts.flatMap((s, i) => (values[i] > 0 ? [[f.hour(s, withDay), f.num(values[i])]] : []));
  return <DataTable head={[f.t('dashboard.hour'), label]} rows={rows} />;
}
