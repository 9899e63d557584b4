import { parseArgs } from 'node:util';

/**
 * Command-line flags of a benchmark that runs the stack: `--mode prod|test` and whole-number size
 * flags with defaults (positive, or also 0 for those in `zeroAllowed`); a bad value stops the run with
 * a message naming the flag.
 */
export function parseBenchArgs<K extends string>(
  defaults: Record<K, number>,
  zeroAllowed: readonly NoInfer<K>[] = [],
): { mode: 'prod' | 'test'; config: Record<K, number> } {
  const options = Object.fromEntries([
    ['mode', { type: 'string', default: 'prod' }],
    ...Object.entries(defaults).map(([flag, value]) => [flag, { type: 'string', default: String(value) }]),
  ]) as Record<string, { type: 'string'; default: string }>;
  const { values } = parseArgs({ options });
  const { mode, ...sizes } = values as Record<string, string>;
  const config = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Number(v)])) as Record<K, number>;
  for (const [flag, value] of Object.entries<number>(config)) {
    const least = (zeroAllowed as readonly string[]).includes(flag) ? 0 : 1;
    if (!Number.isInteger(value) || value < least) throw new Error(`--${flag} must be a ${least === 0 ? 'non-negative' : 'positive'} whole number, got ${sizes[flag]}`);
  }
  return { mode: parseBenchMode(mode), config };
}

/** `--mode`: prod (the build from `npm run build`) or test (the sources through tsx). */
export function parseBenchMode(mode: string | undefined): 'prod' | 'test' {
  if (mode !== 'prod' && mode !== 'test') throw new Error(`--mode must be prod (the build from npm run build) or test (the sources), got ${mode}`);
  return mode;
}
