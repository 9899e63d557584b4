import { describe, expect, it } from 'vitest';
import { highlightCode } from './highlight';

describe('highlightCode', () => {
  it('marks tokens of a named language, by its name or an alias', () => {
    for (const name of ['typescript', 'ts']) {
      const { html, language } = highlightCode('const answer: number = 42; // why', name);
      expect(language).toBe(name);
      expect(html).toContain('<span class="hljs-keyword">const</span>');
      expect(html).toContain('<span class="hljs-number">42</span>');
      expect(html).toContain('<span class="hljs-comment">// why</span>');
    }
  });

  it('escapes the code: model output never becomes markup', () => {
    const { html } = highlightCode('print("<script>alert(1)</script>")', 'python');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('guesses among the registered languages when none or an unknown one is named', () => {
    expect(highlightCode('def add(a, b):\n    return a + b\n', '').language).toBe('python');
    expect(highlightCode('fn main() { let x = 1; }', 'no-such-language').html).toContain('hljs-keyword');
  });
});
