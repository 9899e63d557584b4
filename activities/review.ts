import { ApplicationFailure, Context } from '@temporalio/activity';
import { extractCode } from './extract-code';
import { requireBackend, requireServed, type BackendRegistry } from './generate';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import type { ReviewInput, ReviewOutcome } from './types';

const REVIEW_PROMPT: Record<'standard' | 'thorough', string> = {
  standard:
    'Review the code below against the requirements. List each real problem as a line starting with "- ". ' +
    'If there is none, answer exactly "No issues found."',
  thorough:
    'Review the code below against the requirements as a senior engineer: correctness, edge cases, security, ' +
    'performance and readability. List each problem as a line starting with "- ". If there is none, answer exactly ' +
    '"No issues found."',
};

/** Turns a reviewer's answer into notes: its bullet lines, or the whole answer when it has none. */
export function parseReview(text: string): ReviewOutcome {
  if (/no issues found/i.test(text)) return { status: 'passed', notes: [] };
  const bullets = text
    .split('\n')
    .map((line) => /^\s*[-*]\s+(.*\S)/.exec(line)?.[1])
    .filter((note): note is string => Boolean(note));
  const notes = bullets.length > 0 ? bullets : [text.trim()].filter(Boolean);
  return notes.length === 0 ? { status: 'passed', notes } : { status: 'issues', notes };
}

/** The review runs on the generation's backend, as the same catalogue model, under the same cap. */
export function createReviewActivities({ backends, catalog }: { backends: BackendRegistry; catalog: CatalogLookup }) {
  return {
    async reviewCode(input: ReviewInput): Promise<ReviewOutcome> {
      if (input.level === 'none') throw ApplicationFailure.nonRetryable('review level none has no review', 'InvalidJob');
      const ctx = Context.current();
      const backend = await requireBackend(backends, input.backendId);
      const { concrete } = await requireServed(catalog, input.model, backend);
      const result = await backend.streamChat(
        {
          model: concrete,
          maxTokens: input.outputCap,
          signal: ctx.cancellationSignal,
          messages: [
            { role: 'system', content: REVIEW_PROMPT[input.level] },
            { role: 'user', content: `Requirements:\n${input.requirements}\n\nCode:\n${extractCode(input.text).code}` },
          ],
        },
        () => ctx.heartbeat(),
      );
      return parseReview(result.text);
    },
  };
}
