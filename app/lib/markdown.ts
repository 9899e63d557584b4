/**
 * The Markdown that models write, parsed into plain data that React renders as elements: no
 * raw HTML survives (a `<script>` in an answer is text), and links keep http(s) and mailto only.
 * Blocks: fenced code, headings, bullet and numbered lists (items may hold code and paragraphs,
 * indented under them), quotes, paragraphs. Inline: code, bold, italics, links. Pure, so SSR
 * and hydration agree.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'link'; href: string; children: Inline[] };

export type Block =
  | { kind: 'code'; language: string; code: string }
  | { kind: 'heading'; level: number; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'quote'; blocks: Block[] }
  | { kind: 'list'; ordered: boolean; items: Block[][] };

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^(\s{0,3})([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;

export function parseMarkdown(text: string): Block[] {
  return parseBlocks(text.replace(/\r\n?/g, '\n').split('\n'));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const indent = line.length - line.trimStart().length;
      const code: string[] = [];
      i++;
      // An unclosed fence (a cut answer) runs to the end, as in CommonMark.
      while (i < lines.length && !lines[i]!.trimStart().startsWith(marker)) code.push(dedent(lines[i++]!, indent));
      i++;
      blocks.push({ kind: 'code', language: fence[2] ?? '', code: code.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: heading[1]!.length, children: parseInline(heading[2]!) });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) quoted.push(QUOTE.exec(lines[i++]!)![1]!);
      blocks.push({ kind: 'quote', blocks: parseBlocks(quoted) });
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      const ordered = /\d/.test(bullet[2]!);
      const items: Block[][] = [];
      while (i < lines.length) {
        const item = BULLET.exec(lines[i]!);
        if (!item || /\d/.test(item[2]!) !== ordered) break;
        // An item's own lines: those indented under it, and blank lines between them.
        const width = item[1]!.length + item[2]!.length + 1;
        const body = [item[3]!];
        i++;
        while (i < lines.length) {
          const next = lines[i]!;
          const indented = next.length - next.trimStart().length >= Math.min(width, 2);
          if (next.trim() && !indented) break;
          if (!next.trim() && !(lines[i + 1] ?? '').startsWith(' '.repeat(Math.min(width, 2)))) break;
          body.push(dedent(next, width));
          i++;
        }
        items.push(parseBlocks(body));
      }
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i]!.trim() && !FENCE.test(lines[i]!) && !HEADING.test(lines[i]!) && !BULLET.test(lines[i]!) && !QUOTE.test(lines[i]!)) {
      paragraph.push(lines[i++]!.trim());
    }
    blocks.push({ kind: 'paragraph', children: parseInline(paragraph.join('\n')) });
  }
  return blocks;
}

/** Removes up to `width` leading spaces (fewer when the line has fewer). */
function dedent(line: string, width: number): string {
  let n = 0;
  while (n < width && line[n] === ' ') n++;
  return line.slice(n);
}

const SAFE_HREF = /^(https?:\/\/|mailto:)/i;

/** Earliest inline construct first; what matches nothing is text. */
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:.*?[^*\s])?)\*|\b_([^_\s](?:.*?[^_\s])?)_\b|\[([^\]]+)\]\(([^)\s]+)\)/s;

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  const pushText = (piece: string) => {
    const last = out.at(-1);
    if (last?.kind === 'text') last.text += piece;
    else out.push({ kind: 'text', text: piece });
  };
  let rest = text;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      pushText(rest);
      break;
    }
    if (match.index > 0) pushText(rest.slice(0, match.index));
    const [whole, code, strong1, strong2, em1, em2, label, href] = match;
    if (code !== undefined) out.push({ kind: 'code', text: code });
    else if (strong1 !== undefined || strong2 !== undefined) out.push({ kind: 'strong', children: parseInline((strong1 ?? strong2)!) });
    else if (em1 !== undefined || em2 !== undefined) out.push({ kind: 'em', children: parseInline((em1 ?? em2)!) });
    else if (SAFE_HREF.test(href!)) out.push({ kind: 'link', href: href!, children: parseInline(label!) });
    else pushText(whole);
    rest = rest.slice(match.index + whole.length);
  }
  return out;
}
