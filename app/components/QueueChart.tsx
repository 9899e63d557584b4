const WIDTH = 240;
const HEIGHT = 48;

export interface ChartPoint {
  at: number;
  value: number;
}

interface Props {
  label: string;
  points: ChartPoint[];
  /** Top of the scale (slots for utilisation); at least the largest value shown. */
  max: number;
  /** Start and end of the time axis (the window shown). */
  from: number;
  to: number;
  /** How the latest value reads, e.g. "3 of 4 slots". */
  current: string;
}

/**
 * A small line chart drawn as SVG: an area under a step line (values hold until the next sample,
 * as queue depth and slots in use do). Its accessible name says what it shows and the latest and
 * peak values, which is what a screen-reader user needs from it.
 */
export function QueueChart({ label, points, max, from, to, current }: Props) {
  const top = Math.max(1, max, ...points.map((p) => p.value));
  const span = Math.max(1, to - from);
  const x = (at: number) => ((Math.min(Math.max(at, from), to) - from) / span) * WIDTH;
  const y = (value: number) => HEIGHT - 2 - (value / top) * (HEIGHT - 4);
  let line = '';
  points.forEach((point, i) => {
    line += i === 0 ? `M${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}` : `H${x(point.at).toFixed(1)}V${y(point.value).toFixed(1)}`;
  });
  const last = points.at(-1);
  if (last) line += `H${WIDTH}`;
  const area = last ? `${line}V${HEIGHT}H${x(points[0]!.at).toFixed(1)}Z` : '';
  const peak = points.reduce((m, p) => Math.max(m, p.value), 0);
  const windowText = span < 90_000 ? `${Math.round(span / 1000)} seconds` : `${Math.round(span / 60_000)} minutes`;

  return (
    <figure className="queue-chart">
      <figcaption>
        <span>{label}</span> <strong>{current}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`${label} over the last ${windowText}: now ${current}, peak ${peak}.`}>
        <line x1="0" x2={WIDTH} y1={y(top)} y2={y(top)} className="queue-chart-max" />
        {area && <path d={area} className="queue-chart-area" />}
        {line && <path d={line} className="queue-chart-line" />}
      </svg>
    </figure>
  );
}
