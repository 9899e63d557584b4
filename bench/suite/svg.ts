/**
 * A small line-chart writer: axes with ticks, one polyline per series, a legend. Enough for the
 * report's charts without a plotting dependency.
 */

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Log-scaled x axis (user counts from 10 to 5,000). */
  xLog?: boolean;
  /** Fixed y range; otherwise 0 to the largest value. */
  yMax?: number;
  /** Markers at each point (few points) rather than a bare line (time series). */
  markers?: boolean;
}

const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 70, right: 20, top: 40, bottom: 60 };
const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** About five round tick values from 0 to max. */
function linearTicks(max: number): number[] {
  if (max <= 0) return [0];
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return Array.from({ length: Math.floor(max / step + 1e-9) + 1 }, (_, i) => i * step);
}

const format = (value: number) =>
  Math.abs(value) >= 1000 ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(Math.round(value * 100) / 100);

export function lineChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map(([x]) => x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = spec.yMax ?? Math.max(...all.map(([, y]) => y), 0) * 1.1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const tx = (x: number) => {
    if (xMax === xMin) return PAD.left + plotW / 2;
    const fraction = spec.xLog ? (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (x - xMin) / (xMax - xMin);
    return PAD.left + fraction * plotW;
  };
  const ty = (y: number) => PAD.top + plotH - (yMax > 0 ? (y / yMax) * plotH : 0);
  const xTicks = spec.xLog ? [...new Set(xs)].sort((a, b) => a - b) : linearTicks(xMax).filter((t) => t >= xMin);
  const yTicks = linearTicks(yMax).filter((t) => t <= yMax);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escape(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${ty(t)}" y2="${ty(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${ty(t) + 4}" text-anchor="end">${format(t)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${tx(t)}" x2="${tx(t)}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 5}" stroke="black"/>`);
    parts.push(`<text x="${tx(t)}" y="${PAD.top + plotH + 18}" text-anchor="middle">${format(t)}</text>`);
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="black"/>`,
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="black"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 28}" text-anchor="middle">${escape(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(spec.yLabel)}</text>`,
  );
  spec.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = series.points.map(([x, y]) => `${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (spec.markers) for (const [x, y] of series.points) parts.push(`<circle cx="${tx(x).toFixed(1)}" cy="${ty(y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const lx = PAD.left + i * 170;
    parts.push(`<rect x="${lx}" y="${HEIGHT - 16}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${lx + 20}" y="${HEIGHT - 10}">${escape(series.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
