import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown } from './markdown';

describe('parseMarkdown', () => {
  it('keeps a fenced block inside a list item as code of that item', () => {
    const blocks = parseMarkdown('- Guard the empty input:\n  ```ts\n  if (!items.length) return [];\n  ```\n- Name it `sorted`');
    expect(blocks).toEqual([
      {
        kind: 'list',
        ordered: false,
        items: [
          [
            { kind: 'paragraph', children: [{ kind: 'text', text: 'Guard the empty input:' }] },
            { kind: 'code', language: 'ts', code: 'if (!items.length) return [];' },
          ],
          [{ kind: 'paragraph', children: [{ kind: 'text', text: 'Name it ' }, { kind: 'code', text: 'sorted' }] }],
        ],
      },
    ]);
  });

  it('reads headings, numbered lists, quotes and paragraphs; an unclosed fence runs to the end', () => {
    const blocks = parseMarkdown('## Summary\nTwo lines\nof prose\n\n1. first\n2. second\n\n> quoted\n\n```py\nprint(1)');
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'list', 'quote', 'code']);
    expect(blocks[1]).toEqual({ kind: 'paragraph', children: [{ kind: 'text', text: 'Two lines\nof prose' }] });
    expect(blocks[2]).toMatchObject({ kind: 'list', ordered: true, items: [[{ kind: 'paragraph' }], [{ kind: 'paragraph' }]] });
    expect(blocks[4]).toEqual({ kind: 'code', language: 'py', code: 'print(1)' });
  });

  it('leaves raw HTML as text: nothing becomes markup', () => {
    expect(parseMarkdown('<script>alert(1)</script> <img src=x onerror=alert(1)>')).toEqual([
      { kind: 'paragraph', children: [{ kind: 'text', text: '<script>alert(1)</script> <img src=x onerror=alert(1)>' }] },
    ]);
  });
});

describe('parseInline', () => {
  it('reads bold, italics, code and http links', () => {
    expect(parseInline('**bold** and *em* and _also_ [docs](https://example.com/a)')).toEqual([
      { kind: 'strong', children: [{ kind: 'text', text: 'bold' }] },
      { kind: 'text', text: ' and ' },
      { kind: 'em', children: [{ kind: 'text', text: 'em' }] },
      { kind: 'text', text: ' and ' },
      { kind: 'em', children: [{ kind: 'text', text: 'also' }] },
      { kind: 'text', text: ' ' },
      { kind: 'link', href: 'https://example.com/a', children: [{ kind: 'text', text: 'docs' }] },
    ]);
  });

  it('keeps a link with any other scheme as its text', () => {
    expect(parseInline('[click](javascript:alert(1))')).toEqual([{ kind: 'text', text: '[click](javascript:alert(1))' }]);
  });

  it('does not read snake_case names or arithmetic as emphasis', () => {
    expect(parseInline('use max_output_tokens and a * b * c')).toEqual([{ kind: 'text', text: 'use max_output_tokens and a * b * c' }]);
  });
});
