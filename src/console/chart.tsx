/**
 * Calls per hour as an SVG bar chart: allowed, denied and rate-limited stacked per hour. Drawn on the
 * server from numbers (no chart library, no script); colours come from the stylesheet through
 * classes, and each bar has a <title> so a pointer or a screen reader can read its numbers. The
 * same numbers are in a table below the chart for anyone who cannot see it.
 */
import type { HourCount } from "../audit/query";

const WIDTH = 720;
const HEIGHT = 220;
const LEFT = 40;
const BOTTOM = 28;
const TOP = 12;

const SERIES = [
  { key: "allowed", label: "allowed" },
  { key: "denied", label: "denied" },
  { key: "rateLimited", label: "rate-limited" },
] as const;

/** A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50, … */
export function axisMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** One hour's stacked bar, with a <title> giving its numbers; every third hour is labelled on the axis. */
function Bar(props: { hour: HourCount; x: number; width: number; y: (value: number) => number; axisLabel: boolean }) {
  const { hour, x, y } = props;
  let base = 0;
  const label = `${hour.start.slice(11, 16)} UTC: ${hour.allowed} allowed, ${hour.denied} denied, ${hour.rateLimited} rate-limited`;
  return (
    <g class="bar">
      <title>{label}</title>
      {SERIES.map((series) => {
        const value = hour[series.key];
        if (value === 0) return null;
        const top = y(base + value);
        const height = y(base) - top;
        base += value;
        return <rect class={`series-${series.key}`} x={x} y={top} width={props.width} height={height} />;
      })}
      {props.axisLabel ? (
        <text class="axis" x={x + props.width / 2} y={HEIGHT - 10} text-anchor="middle">
          {hour.start.slice(11, 13)}h
        </text>
      ) : null}
    </g>
  );
}

export function HourlyChart(props: { hours: HourCount[] }) {
  const { hours } = props;
  const totals = hours.map((hour) => hour.allowed + hour.denied + hour.rateLimited);
  const max = axisMax(Math.max(0, ...totals));
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(1, hours.length);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (value: number) => TOP + plotHeight - (value / max) * plotHeight;
  const sum = (key: (typeof SERIES)[number]["key"]) => hours.reduce((total, hour) => total + hour[key], 0);
  const summary = `Calls per hour over the last ${hours.length} hours: ${sum("allowed")} allowed, ${sum("denied")} denied, ${sum("rateLimited")} rate-limited.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
        <title id="chart-title">tools/call decisions per hour</title>
        <desc id="chart-desc">{summary}</desc>
        {[0, max / 2, max].map((tick) => (
          <g class="grid">
            <line x1={LEFT} x2={WIDTH} y1={y(tick)} y2={y(tick)} />
            <text x={LEFT - 6} y={y(tick) + 4} text-anchor="end">
              {String(tick)}
            </text>
          </g>
        ))}
        {hours.map((hour, index) => (
          <Bar hour={hour} x={LEFT + index * slot + (slot - barWidth) / 2} width={barWidth} y={y} axisLabel={index % 3 === 0} />
        ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {SERIES.map((series) => (
            <li>
              <span class={`swatch series-${series.key}`} aria-hidden="true"></span>
              {series.label} ({sum(series.key)})
            </li>
          ))}
        </ul>
        <span class="hint">Hours in UTC; the last bar is the current hour.</span>
      </figcaption>
    </figure>
  );
}
