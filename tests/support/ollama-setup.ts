import { afterAll } from 'vitest';
import { stopAllOllamas } from './ollama';

// In every test file of vitest.ollama.config.ts: whatever a file started and did not stop is
// stopped when the file ends, even when its own afterAll failed or was never reached.
afterAll(() => stopAllOllamas());
