import { useMemo } from 'react';
import { highlightCode } from '~/lib/highlight';

/** Highlighted code; the caller wraps it in a `pre`. */
export function Code({ code, language }: { code: string; language: string }) {
  const { html } = useMemo(() => highlightCode(code, language), [code, language]);
  // highlight.js escapes every character of the code; the markup is only its token spans.
  return <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />;
}
