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
import { useEffect, useRef } from 'react';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

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
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const motion = !reducedMotion();
    // No entry animation (the first render is measured); updates ease in.
    chart.current?.setOption({ animation: motion, animationDuration: 0, animationDurationUpdate: motion ? 300 : 0, ...option });
  }, [option]);

  return <div ref={ref} role="img" aria-label={label} data-chart="" className={`w-full ${tall ? 'h-72' : 'h-60'}`} />;
}
