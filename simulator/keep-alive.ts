export const defaultKeepAliveMs = 5 * 60_000;
const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Ollama's keep_alive: a number of seconds or a Go duration ("30s", "1h30m"); negative keeps the
 * model loaded forever, 0 unloads it when the request ends. Returns milliseconds (-1 = forever).
 */
export function parseKeepAlive(value: unknown): number {
  if (typeof value === 'number') return value < 0 ? -1 : value * 1000;
  if (typeof value !== 'string' || value.trim() === '') return defaultKeepAliveMs;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return parseKeepAlive(Number(text));
  if (text.startsWith('-')) return -1;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  return matched === text ? total : defaultKeepAliveMs;
}
