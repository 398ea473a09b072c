import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { CHART_UNITS, chartValueText, METRIC_TITLES, SO_FAR } from './format';
import { type Band, levelBands } from './levels';
import type { Level, MetricBounds, MetricName, MetricPoint } from './types';

/** Okabe-Ito: told apart with every common colour-vision deficiency. */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  vermillion: '#D55E00',
  green: '#009E73',
  sky: '#56B4E9',
  purple: '#CC79A7',
};

const BAND_COLOURS: Record<Level, string> = {
  elite: 'rgba(0, 158, 115, 0.16)',
  high: 'rgba(86, 180, 233, 0.16)',
  medium: 'rgba(230, 159, 0, 0.16)',
  low: 'rgba(213, 94, 0, 0.14)',
};

const HEIGHT = 220;

function epochSeconds(date: string | null): number {
  return date === null ? 0 : Date.parse(`${date}T00:00:00Z`) / 1000;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** The page's one date format (the API's bucket dates): 2026-11-30. */
function dayText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function axes(unit: string): uPlot.Axis[] {
  const stroke = cssVar('--text-muted');
  const grid = { stroke: cssVar('--grid'), width: 1 };
  return [
    // Wide enough apart for a full date per tick.
    { stroke, grid, ticks: grid, space: 88, values: (_u, splits) => splits.map(dayText) },
    {
      stroke,
      grid,
      ticks: grid,
      size: 56,
      label: unit,
      labelSize: 18,
      values: (_u, values) => values.map((value) => value.toLocaleString('en-GB')),
    },
  ];
}

/** The y axis' top: the same for the bands drawn and the key that names them. */
function yTop(values: ReadonlyArray<number | null>): number {
  const max = Math.max(0, ...values.filter((value): value is number => value !== null));
  return max > 0 ? max * 1.15 : 1;
}

function scaledBounds(bounds: MetricBounds | undefined, scale: (value: number) => number): MetricBounds {
  const scaled: MetricBounds = {};
  for (const [level, bound] of Object.entries(bounds ?? {})) {
    scaled[level as keyof MetricBounds] = { comparison: bound.comparison, value: scale(bound.value) };
  }
  return scaled;
}

function keyNumber(value: number): string {
  return value.toLocaleString('en-GB', { maximumFractionDigits: value < 1 ? 2 : 1 });
}

/**
 * Which level each shaded band of this chart is, with its range, from the very bands drawn (the same
 * bounds, the same top), so the key and the picture cannot disagree: DORA 2024's change failure rate
 * has no medium band, because its medium bound is stricter than its high one.
 */
export function BandKey(props: {
  bounds: MetricBounds | undefined;
  scale: (value: number) => number;
  top: number;
  unit: string;
}) {
  const scaled = scaledBounds(props.bounds, props.scale);
  // Ranges read from bands over all the bounds, then only those the chart shows are named.
  const highest = Math.max(0, ...Object.values(scaled).map((bound) => bound.value));
  const all = levelBands(scaled, Math.max(props.top, highest * 2));
  const shown = all.filter((band) => band.from < props.top);
  if (shown.length === 0) return null;
  const unit = props.unit === '%' ? ' %' : ` ${props.unit}`;
  const range = (band: Band, index: number) => {
    const last = index === all.length - 1;
    if (band.from === 0) return last ? 'at any value' : `below ${keyNumber(band.to)}${unit}`;
    return last
      ? `${keyNumber(band.from)}${unit} and above`
      : `${keyNumber(band.from)}–${keyNumber(band.to)}${unit}`;
  };
  return (
    <p class="band-key" data-testid="band-key">
      {shown.map((band, index) => (
        <span key={band.level} class="swatch-item" data-level={band.level}>
          <span class="swatch" style={{ background: BAND_COLOURS[band.level] }} /> {band.level}{' '}
          {range(band, index)}
        </span>
      ))}
    </p>
  );
}

/** Draws the level bands behind the series, in the chart's unit. */
function bandsHook(bounds: MetricBounds | undefined, scale: (value: number) => number) {
  const scaled = scaledBounds(bounds, scale);
  return (u: uPlot) => {
    const top = u.scales.y?.max ?? 0;
    const { ctx, bbox } = u;
    ctx.save();
    for (const band of levelBands(scaled, top)) {
      const y0 = u.valToPos(band.from, 'y', true);
      const y1 = u.valToPos(band.to, 'y', true);
      ctx.fillStyle = BAND_COLOURS[band.level];
      ctx.fillRect(bbox.left, y1, bbox.width, y0 - y1);
    }
    ctx.restore();
  };
}

/**
 * Veils the running bucket, from halfway after the previous bucket to the plot's right edge, and
 * writes "so far" on it: its values cover only the elapsed part, so they must not read like the others.
 * The veil is translucent, so what is drawn there stays visible, only lighter.
 */
function runningHook(index: number) {
  return (u: uPlot) => {
    const xs = u.data[0];
    const at = xs[index];
    if (index < 0 || at === undefined) return;
    const { ctx, bbox } = u;
    const here = u.valToPos(at, 'x', true);
    const before = xs[index - 1];
    const left = Math.max(
      bbox.left,
      before === undefined ? bbox.left : (u.valToPos(before, 'x', true) + here) / 2,
    );
    const right = bbox.left + bbox.width;
    const ratio = devicePixelRatio || 1;
    ctx.save();
    ctx.globalAlpha = 0.55;
    ctx.fillStyle = cssVar('--bg');
    ctx.fillRect(left, bbox.top, right - left, bbox.height);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = cssVar('--text-muted');
    ctx.setLineDash([4 * ratio, 4 * ratio]);
    ctx.lineWidth = ratio;
    ctx.beginPath();
    ctx.moveTo(left, bbox.top);
    ctx.lineTo(left, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillStyle = cssVar('--text-muted');
    ctx.font = `${12 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillText('so far', right - 2 * ratio, bbox.top + 2 * ratio);
    ctx.restore();
  };
}

/**
 * The bucket the legend shows while the pointer is off the chart: the last finished one (the running
 * one when nothing finished), so the legend always reads as numbers, never as placeholders.
 */
function restingIndex(points: readonly MetricPoint[], running: number): number {
  return running > 0 ? running - 1 : points.length - 1;
}

function legendBucket(points: readonly MetricPoint[], running: string | null, resting: number) {
  return (_u: uPlot, _value: number | null, _series: number, index: number | null): string => {
    const point = points[index ?? resting];
    return point ? bucketText(point.date, running) : '';
  };
}

function bucketText(date: string | null, running: string | null): string {
  if (date === null) return '';
  return date === running ? `${date} ${SO_FAR}` : date;
}

/** A uPlot chart that follows its container's width; rebuilt when its data or colours change. */
function useChart(build: (width: number) => uPlot.Options, data: uPlot.AlignedData, deps: unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const chart = new uPlot(build(Math.max(element.clientWidth, 240)), data, element);
    const observer = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(element.clientWidth, 240), height: HEIGHT });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, deps);
  return ref;
}

function DataTable(props: { caption: string; headers: string[]; rows: string[][]; running: number }) {
  return (
    <details class="chart-data">
      <summary>Show the numbers</summary>
      <table>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.headers.map((header) => (
              <th scope="col" key={header}>
                {header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, index) => (
            <tr key={row[0]} class={index === props.running ? 'running' : undefined}>
              {row.map((cell, index) => (
                <td key={index}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function MetricChart(props: {
  metric: MetricName;
  points: MetricPoint[];
  bounds: MetricBounds | undefined;
  /** `date` of the running bucket, or null. */
  running: string | null;
  scheme: string;
}) {
  const { metric, points, bounds } = props;
  const { unit, scale } = CHART_UNITS[metric];
  const running = points.findIndex((point) => point.date !== null && point.date === props.running);
  const values = points.map((point) => (point.value === null ? null : scale(point.value)));
  // The running bucket is its own dashed series, joined to the bucket before it; the solid line stops
  // at the last finished bucket.
  const soFar = values.map((value, index) => (index === running || index === running - 1 ? value : null));
  const data: uPlot.AlignedData = [
    points.map((point) => epochSeconds(point.date)),
    values.map((value, index) => (index === running ? null : value)),
    ...(running >= 0 ? [soFar] : []),
  ];
  const valueText = (value: number | null | undefined) =>
    value === null || value === undefined
      ? '–'
      : `${value.toLocaleString('en-GB', { maximumFractionDigits: 2 })} ${unit}`;
  const resting = restingIndex(points, running);
  const top = yTop(values);
  const series: uPlot.Series[] = [
    { label: 'Bucket (UTC)', value: legendBucket(points, props.running, resting) },
    {
      label: METRIC_TITLES[metric],
      stroke: PALETTE.blue,
      width: 2,
      points: { show: true, size: 6, fill: PALETTE.blue },
      value: (_u, value, _series, index) =>
        valueText(index === null ? values[resting] : index === running ? null : value),
    },
  ];
  if (running >= 0) {
    series.push({
      label: `${METRIC_TITLES[metric]} ${SO_FAR}`,
      stroke: PALETTE.blue,
      width: 2,
      dash: [6, 4],
      // Hollow, so the point reads as unfinished.
      points: { show: true, filter: [running], size: 7, width: 2, fill: cssVar('--bg') },
      // Only the running bucket's own value: the bucket before it is here just to join the line.
      value: (_u, value, _series, index) =>
        index === null || index === running ? valueText(value ?? values[running]) : '–',
    });
  }
  const ref = useChart(
    (width) => ({
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: () => [0, top] } },
      axes: axes(unit),
      legend: { show: true, live: true },
      series,
      hooks: { drawClear: [bandsHook(bounds, scale)], draw: [runningHook(running)] },
    }),
    data,
    [points, bounds, props.running, props.scheme],
  );
  return (
    <figure class="chart" data-chart={metric}>
      <figcaption>
        {METRIC_TITLES[metric]} <span class="unit">({unit})</span>
      </figcaption>
      <div ref={ref} class="plot" role="img" aria-label={`${METRIC_TITLES[metric]} over time, in ${unit}`} />
      <BandKey bounds={bounds} scale={scale} top={top} unit={unit} />
      <DataTable
        caption={`${METRIC_TITLES[metric]} per bucket`}
        headers={['Bucket (UTC)', METRIC_TITLES[metric], 'Count']}
        running={running}
        rows={points.map((point) => [
          bucketText(point.date, props.running),
          chartValueText(metric, point.value),
          point.count.toLocaleString('en-GB'),
        ])}
      />
    </figure>
  );
}

/** Production deployments per bucket, healthy and failed stacked (failed: failed or caused an incident). */
export function DeploymentsChart(props: { points: MetricPoint[]; running: string | null; scheme: string }) {
  const { points } = props;
  const running = points.findIndex((point) => point.date !== null && point.date === props.running);
  const failed = points.map((point) => point.failed ?? 0);
  const healthy = points.map((point, index) => point.count - (failed[index] ?? 0));
  const resting = restingIndex(points, running);
  const data: uPlot.AlignedData = [
    points.map((point) => epochSeconds(point.date)),
    points.map((point) => point.count),
    healthy,
  ];
  const bars = uPlot.paths.bars?.({ size: [0.7, 48] });
  const ref = useChart(
    (width) => ({
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: axes('deployments'),
      series: [
        { label: 'Bucket (UTC)', value: legendBucket(points, props.running, resting) },
        // Drawn first and as tall as all deployments: what shows above the healthy bar is the failed part.
        {
          label: 'Failed',
          fill: PALETTE.vermillion,
          stroke: PALETTE.vermillion,
          ...(bars ? { paths: bars } : {}),
          points: { show: false },
          value: (_u, _value, _series, index) => String(failed[index ?? resting] ?? 0),
        },
        {
          label: 'Healthy',
          fill: PALETTE.blue,
          stroke: PALETTE.blue,
          ...(bars ? { paths: bars } : {}),
          points: { show: false },
          value: (_u, _value, _series, index) => String(healthy[index ?? resting] ?? 0),
        },
      ],
      hooks: { draw: [runningHook(running)] },
    }),
    data,
    [points, props.running, props.scheme],
  );
  return (
    <figure class="chart" data-chart="deployments">
      <figcaption>
        Production deployments <span class="unit">(per bucket: healthy and failed)</span>
      </figcaption>
      <div
        ref={ref}
        class="plot"
        role="img"
        aria-label="Production deployments per bucket, healthy and failed"
      />
      <DataTable
        caption="Production deployments per bucket"
        headers={['Bucket (UTC)', 'Deployments', 'Healthy', 'Failed']}
        running={running}
        rows={points.map((point, index) => [
          bucketText(point.date, props.running),
          point.count.toLocaleString('en-GB'),
          (healthy[index] ?? 0).toLocaleString('en-GB'),
          (failed[index] ?? 0).toLocaleString('en-GB'),
        ])}
      />
    </figure>
  );
}

export function BandLegend() {
  return (
    <p class="band-legend">
      Shaded bands: DORA levels{' '}
      {(['elite', 'high', 'medium', 'low'] as const).map((level) => (
        <span key={level} class="swatch-item">
          <span class="swatch" style={{ background: BAND_COLOURS[level] }} /> {level}
        </span>
      ))}
    </p>
  );
}
