import { findOllama } from '../../scripts/lib/ollama-server';

/**
 * Once per run, before any test file: find or build Ollama, so that the test files (in parallel
 * workers) do not each start a build, and the minutes a first build takes do not count against
 * a test's hook timeout.
 */
export default async function setup(): Promise<void> {
  const started = Date.now();
  const bin = await findOllama();
  console.log(`[ollama] ${bin} (${Date.now() - started} ms)`);
}
