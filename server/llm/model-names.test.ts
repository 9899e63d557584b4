import { describe, expect, it } from 'vitest';
import { normalizeOllamaModel, sameOllamaModel } from './model-names';

describe('Ollama model names', () => {
  it('fills the tag, host and namespace Ollama fills, and ignores case', () => {
    expect(normalizeOllamaModel('tiny-stop')).toBe('tiny-stop:latest');
    expect(normalizeOllamaModel('Qwen2.5-Coder:7B')).toBe('qwen2.5-coder:7b');
    expect(normalizeOllamaModel('library/llama3.1:8b')).toBe('llama3.1:8b');
    expect(normalizeOllamaModel('registry.ollama.ai/library/llama3.1')).toBe('llama3.1:latest');
    expect(normalizeOllamaModel('https://registry.ollama.ai/library/llama3.1:8b')).toBe('llama3.1:8b');
    expect(normalizeOllamaModel('jmorgan/tiny')).toBe('jmorgan/tiny:latest');
    expect(normalizeOllamaModel('hf.co/Bartowski/Foo-GGUF:Q4_K_M')).toBe('hf.co/bartowski/foo-gguf:q4_k_m');
  });

  it('keeps a private registry’s port out of the tag', () => {
    expect(normalizeOllamaModel('registry.local:5000/team/coder')).toBe('registry.local:5000/team/coder:latest');
    expect(normalizeOllamaModel('registry.local:5000/team/coder:2')).toBe('registry.local:5000/team/coder:2');
  });

  it('matches what Ollama would serve for the name, and nothing else', () => {
    expect(sameOllamaModel('tiny-stop', 'tiny-stop:latest')).toBe(true);
    expect(sameOllamaModel('TINY-STOP', 'registry.ollama.ai/library/tiny-stop:latest')).toBe(true);
    expect(sameOllamaModel('tiny-stop', 'tiny-stop:q4')).toBe(false);
    expect(sameOllamaModel('tiny-stop', 'someone/tiny-stop')).toBe(false);
    expect(sameOllamaModel('qwen2.5-coder:7b', 'qwen2.5-coder:7b-instruct')).toBe(false);
    expect(sameOllamaModel('x@sha256-aa', 'x')).toBe(false);
  });
});
