import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
}

interface Props {
  title: string;
  /** Unix times in seconds, one per value of every series. */
  times: number[];
  series: ChartSeries[];
  /** How the y axis reads a value: `12`, `850 ms`. */
  unit?: string;
  height?: number;
}

/**
 * A uPlot line chart that fills its container's width. Built once; later data only calls
 * setData, so the auto-refresh does not flicker.
 */
export function Chart(props: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const unit = props.unit ? ` ${props.unit}` : '';
    plot.current = new uPlot(
      {
        width: element.clientWidth || 400,
        height: props.height ?? 180,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t}${unit}`), size: 60 }],
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [props.times, ...props.series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: element.clientWidth, height: props.height ?? 180 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change, not with every refresh.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)]);
  }, [props.times, props.series]);

  return (
    <figure class="chart" aria-label={props.title}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
