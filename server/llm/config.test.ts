import { describe, expect, it } from 'vitest';
import { envBackends, parseBackendUrl } from './config';
import { knownContextWindow } from './cloud-models';

describe('parseBackendUrl', () => {
  it('accepts http(s) URLs and drops the trailing slash', () => {
    expect(parseBackendUrl('http://127.0.0.1:11434/')).toBe('http://127.0.0.1:11434');
    expect(parseBackendUrl('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1');
  });

  it('refuses other schemes, garbage and embedded credentials with a final error', () => {
    expect(() => parseBackendUrl('ftp://host:21')).toThrow(/must use http or https, not ftp/);
    expect(() => parseBackendUrl('localhost:11434')).toThrow(/must use http or https/);
    expect(() => parseBackendUrl('not a url')).toThrow(/not a valid URL/);
    let error: unknown;
    try {
      parseBackendUrl('https://user:s3cret@api.example.com/v1');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'bad_request', retryable: false, message: expect.stringContaining('must not embed credentials') });
    expect((error as Error).message).not.toContain('s3cret');
  });
});

describe('envBackends', () => {
  it('names one backend per Ollama URL in the pool local plus the cloud endpoint in cloud, with stable ids', () => {
    const backends = envBackends({
      ollamaUrls: ['http://127.0.0.1:11434', 'http://127.0.0.1:11435/'],
      ollama: { slots: 4 },
      openai: { baseURL: 'https://api.openai.com/v1', apiKey: 'sk-test', slots: 8 },
    });
    expect(backends.map((b) => [b.id, b.kind, b.url, b.pool])).toEqual([
      ['ollama@127.0.0.1:11434', 'ollama', 'http://127.0.0.1:11434', 'local'],
      ['ollama@127.0.0.1:11435', 'ollama', 'http://127.0.0.1:11435', 'local'],
      ['openai@api.openai.com', 'openai', 'https://api.openai.com/v1', 'cloud'],
    ]);
  });

  it('refuses the same instance twice and bad URLs', () => {
    const ollama = { slots: 4 };
    expect(() => envBackends({ ollamaUrls: ['http://127.0.0.1:11434', 'http://127.0.0.1:11434/'], ollama })).toThrow(/same instance twice/);
    expect(() => envBackends({ ollamaUrls: ['file:///tmp/x'], ollama })).toThrow(/http or https/);
  });
});

describe('known cloud context windows', () => {
  it('finds a model, its dated snapshots by their longest prefix, and nothing for others', () => {
    expect(knownContextWindow('gpt-4o-mini')).toBe(128_000);
    expect(knownContextWindow('gpt-4o-mini-2024-07-18')).toBe(128_000);
    expect(knownContextWindow('gpt-4.1-mini-2025-04-14')).toBe(1_047_576);
    expect(knownContextWindow('brand-new')).toBeUndefined();
  });
});
