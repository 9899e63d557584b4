import { useMemo } from 'react';
import { parseMarkdown, type Block, type Inline } from '~/lib/markdown';
import { Code } from './Code';

/**
 * Model output as Markdown, built from React elements only (app/lib/markdown.ts): whatever the
 * model writes stays text, never markup. The one renderer for model prose across the app.
 */
export function Markdown({ text, className }: { text: string; className?: string }) {
  const blocks = useMemo(() => parseMarkdown(text), [text]);
  return <div className={className ? `markdown ${className}` : 'markdown'}>{renderBlocks(blocks)}</div>;
}

function renderBlocks(blocks: Block[]) {
  return blocks.map((block, i) => {
    switch (block.kind) {
      case 'code':
        return (
          <pre key={i} className="code">
            <Code code={block.code} language={block.language} />
          </pre>
        );
      case 'heading': {
        // Model headings sit under the page's own: never above h4.
        const Tag = (['h4', 'h5', 'h6'] as const)[Math.min(2, Math.max(0, block.level - 2))]!;
        return <Tag key={i}>{renderInline(block.children)}</Tag>;
      }
      case 'paragraph':
        return <p key={i}>{renderInline(block.children)}</p>;
      case 'quote':
        return <blockquote key={i}>{renderBlocks(block.blocks)}</blockquote>;
      case 'list': {
        const List = block.ordered ? 'ol' : 'ul';
        return (
          <List key={i}>
            {block.items.map((item, j) => (
              <li key={j}>{renderItem(item)}</li>
            ))}
          </List>
        );
      }
    }
  });
}

/** A list item of one paragraph shows its text without a paragraph's margins. */
function renderItem(blocks: Block[]) {
  const [first] = blocks;
  return blocks.length === 1 && first?.kind === 'paragraph' ? renderInline(first.children) : renderBlocks(blocks);
}

function renderInline(parts: Inline[]) {
  return parts.map((part, i) => {
    switch (part.kind) {
      case 'text':
        return <span key={i}>{part.text}</span>;
      case 'code':
        return <code key={i}>{part.text}</code>;
      case 'strong':
        return <strong key={i}>{renderInline(part.children)}</strong>;
      case 'em':
        return <em key={i}>{renderInline(part.children)}</em>;
      case 'link':
        return (
          <a key={i} href={part.href} target="_blank" rel="noreferrer noopener nofollow">
            {renderInline(part.children)}
          </a>
        );
    }
  });
}
