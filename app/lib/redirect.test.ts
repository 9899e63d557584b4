import { describe, expect, it } from 'vitest';
import { safeRedirect } from './redirect';

describe('safeRedirect', () => {
  it('keeps same-site paths with their query', () => {
    expect(safeRedirect('/projects/1?tab=jobs')).toBe('/projects/1?tab=jobs');
    expect(safeRedirect('/invite/abc')).toBe('/invite/abc');
  });

  it('refuses other sites, however spelt', () => {
    for (const to of ['https://evil.example', '//evil.example', '/\\evil.example', 'evil.example', '', null, undefined]) {
      expect(safeRedirect(to)).toBe('/projects');
    }
  });

  it('refuses control characters and backslashes, which browsers strip or turn into slashes', () => {
    for (const to of ['/\t/evil.example', '/\n/evil.example', '/\r/evil.example', '/\u0000/evil.example', '/a\\b', '/x\u007F']) {
      expect(safeRedirect(to, '/')).toBe('/');
    }
  });
});
