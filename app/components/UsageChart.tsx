const WIDTH = 600;
const HEIGHT = 120;
/** Series colours cycle after this many (classes usage-series-0 … 7 in styles.css). */
export const SERIES_COLOURS = 8;

export interface UsageSeries {
  key: string;
  label: string;
}

interface Props {
  title: string;
  days: string[];
  series: UsageSeries[];
  /** day → series key → value. */
  values: Map<string, Map<string, number>>;
  format: (value: number) => string;
}

/**
 * Bars per day, stacked by series, drawn as SVG. Each bar's title lists the day's values, and the
 * figure's accessible name gives the total and the busiest day, what a screen reader needs from it.
 */
export function UsageChart({ title, days, series, values, format }: Props) {
  const totals = days.map((day) => series.reduce((t, s) => t + (values.get(day)?.get(s.key) ?? 0), 0));
  const top = Math.max(0, ...totals);
  const total = totals.reduce((t, v) => t + v, 0);
  const busiest = top > 0 ? days[totals.indexOf(top)] : null;
  const slot = WIDTH / Math.max(1, days.length);
  const bar = Math.max(1, slot * 0.8);

  return (
    <figure className="usage-chart">
      <figcaption>
        <span>{title}</span> <strong>{format(total)}</strong>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${title} per day from ${days[0]} to ${days.at(-1)}: ${format(total)} in all${busiest ? `, most on ${busiest} (${format(top)})` : ''}.`}
      >
        {days.map((day, i) => {
          let y = HEIGHT;
          return (
            <g key={day}>
              <title>{`${day}: ${series.map((s) => `${s.label} ${format(values.get(day)?.get(s.key) ?? 0)}`).join(', ')}`}</title>
              {series.map((s, n) => {
                const value = values.get(day)?.get(s.key) ?? 0;
                if (value <= 0 || top <= 0) return null;
                const h = (value / top) * (HEIGHT - 4);
                y -= h;
                return <rect key={s.key} x={i * slot + (slot - bar) / 2} y={y} width={bar} height={h} className={`usage-series-${n % SERIES_COLOURS}`} />;
              })}
            </g>
          );
        })}
      </svg>
      <div className="usage-axis muted">
        <span>{days[0]}</span>
        <span>{days.at(-1)}</span>
      </div>
    </figure>
  );
}
