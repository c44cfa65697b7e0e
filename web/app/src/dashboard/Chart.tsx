// One ECharts instance on a div, imported piece by piece (only the bar and
// line charts, the components used and the canvas renderer), so this chunk
// carries a fraction of ECharts. New options are merged into the chart (no
// re-creation): a live refetch animates the bars instead of redrawing.
import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { TooltipComponentFormatterCallbackParams } from 'echarts';
import { useEffect, useRef } from 'react';
import { OKABE_ITO } from './shape';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

// ECharts' own tooltip rows carry style="" attributes, which the server's CSP
// (style-src 'self') drops: rows are built from classes instead, every text
// escaped (rule names and hostnames come from outside).
const MARKER: Record<string, string> = {
  [OKABE_ITO.orange]: 'bg-[#E69F00]',
  [OKABE_ITO.skyBlue]: 'bg-[#56B4E9]',
  [OKABE_ITO.bluishGreen]: 'bg-[#009E73]',
  [OKABE_ITO.yellow]: 'bg-[#F0E442]',
  [OKABE_ITO.blue]: 'bg-[#0072B2]',
  [OKABE_ITO.vermillion]: 'bg-[#D55E00]',
  [OKABE_ITO.reddishPurple]: 'bg-[#CC79A7]',
  [OKABE_ITO.grey]: 'bg-[#999999]',
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A tooltip formatter: the axis value, then one row per series (marker, name, value). */
export function tooltipRows(format: (v: number | null) => string) {
  return (params: TooltipComponentFormatterCallbackParams): string => {
    const list = Array.isArray(params) ? params : [params];
    const first = list[0] as { axisValueLabel?: string; name?: string } | undefined;
    const title = first?.axisValueLabel ?? first?.name ?? '';
    const rows = list.map((p) => {
      const raw = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
      const v = typeof raw === 'number' ? raw : null;
      const marker = typeof p.color === 'string' ? MARKER[p.color] : undefined;
      return (
        '<div class="flex items-center gap-2">' +
        (marker ? `<span class="inline-block size-2 shrink-0 rounded-full ${marker}"></span>` : '') +
        `<span>${escapeHtml(p.seriesName ?? '')}</span>` +
        `<span class="ml-auto pl-4 font-semibold tabular-nums">${escapeHtml(format(v))}</span></div>`
      );
    });
    return `<div class="text-xs"><div class="mb-1 font-semibold">${escapeHtml(title)}</div>${rows.join('')}</div>`;
  };
}

const reducedMotion = () => typeof window.matchMedia === 'function' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export function Chart({ option, label, tall }: { option: ChartOption; label: string; tall?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const c = echarts.init(el, null, { renderer: 'canvas' });
    chart.current = c;
    let draws = 0;
    // Tests and the benchmark wait for this: the chart has drawn its data.
    c.on('finished', () => {
      draws += 1;
      el.dataset.drawn = String(draws);
    });
    // The first observation is the size init() already used: no second draw.
    let observed = false;
    const ro = new ResizeObserver(() => {
      if (observed) c.resize();
      observed = true;
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  const drawn = useRef(false);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    // No entry animation (the first render is measured); live updates ease in.
    const motion = drawn.current && !reducedMotion();
    c.setOption({ animation: motion, animationDurationUpdate: 300, ...option });
    drawn.current = true;
  }, [option]);

  return <div ref={ref} role="img" aria-label={label} data-chart="" className={`w-full ${tall ? 'h-72' : 'h-60'}`} />;
}
