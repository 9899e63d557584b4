/**
 * Runs a benchmark under a wall-clock cap: `cleanup` (stop every process it started) runs when
 * `run` ends, fails, or the cap is reached — then the process exits with 1 so no run hangs.
 */
export async function runCapped(name: string, maxSeconds: number, run: () => Promise<void>, cleanup: () => Promise<void>): Promise<void> {
  const timeCap = setTimeout(() => {
    console.error(`${name}: time cap of ${maxSeconds} s reached; stopping`);
    void cleanup().then(() => process.exit(1));
  }, maxSeconds * 1000);
  try {
    await run();
  } finally {
    await cleanup();
    clearTimeout(timeCap);
  }
}
