import { continueInstruction } from '../server/llm/resume';
import { estimatePromptTokens } from '../server/llm/estimate';
import { answerTokens } from './answer';
import { tokenize } from './tokens';

export interface SimMessage {
  role: string;
  content: string;
}

export interface Completion {
  /** Tokens the model would still say: the whole answer, or what follows an assistant prefix. */
  tokens: string[];
  /**
   * The whole answer to the conversation without any prefix: what a caller's text reads once
   * complete, however often it was cut and resumed.
   */
  whole: string;
  promptTokens: number;
}

/**
 * Plans what the simulated model says. A trailing assistant message is a prefix to continue
 * (Ollama semantics); an assistant message followed by the cloud resume instruction is treated the
 * same way, as a well-behaved cloud model would. A model continues the text where the prefix
 * leaves off; it does not start its answer over. So the continuation is the remainder of the answer
 * the conversation would have had without the prefix, after the place the prefix's end matches:
 * for a prefix the simulator wrote, the rest of that answer (resumed text equals uncut text).
 * `answerLength` gives that answer's length from the prompt it answers (without the prefix).
 */
export function planCompletion(seed: number, messages: SimMessage[], answerLength: (askedTokens: number) => number): Completion {
  const { asked, prefix } = splitPrefix(messages);
  const request = [...asked].reverse().find((m) => m.role === 'user')?.content ?? '';
  const conversation = asked.map((m) => `${m.role}: ${m.content}`).join('\n');
  const full = answerTokens(seed, conversation, request, answerLength(estimatePromptTokens(asked)));
  return {
    tokens: prefix ? continuation(full, prefix) : full,
    whole: full.join(''),
    promptTokens: estimatePromptTokens(messages),
  };
}

function splitPrefix(messages: SimMessage[]): { asked: SimMessage[]; prefix: string } {
  const last = messages.at(-1);
  const beforeLast = messages.at(-2);
  if (last?.role === 'assistant') return { asked: messages.slice(0, -1), prefix: last.content };
  if (last?.role === 'user' && last.content === continueInstruction && beforeLast?.role === 'assistant') {
    return { asked: messages.slice(0, -2), prefix: beforeLast.content };
  }
  return { asked: messages, prefix: '' };
}

/** How many of a prefix's last tokens decide where a continuation picks up (bounds the search). */
const contextTokens = 32;

/**
 * After an own prefix, the rest of the answer. After any other, the answer from where the prefix's
 * last tokens occur in it (the longest such run, the first place it occurs), as the real server's
 * tiny models do (tests/ollama/tiny-model.ts: the next token follows from the text before it); a
 * prefix with no token of the answer is followed by the whole answer, as theirs is by their sentence.
 */
function continuation(full: string[], prefix: string): string[] {
  const text = full.join('');
  if (text.startsWith(prefix)) return tokenize(text.slice(prefix.length));
  const tail = tokenize(prefix).slice(-contextTokens);
  for (let length = Math.min(tail.length, full.length); length > 0; length--) {
    const run = tail.slice(-length);
    for (let end = length; end <= full.length; end++) {
      if (run.every((token, i) => full[end - length + i] === token)) return full.slice(end);
    }
  }
  return full;
}
