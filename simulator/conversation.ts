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
  promptTokens: number;
}

/**
 * Plans what the simulated model says. A trailing assistant message is a prefix to continue
 * (Ollama semantics); an assistant message followed by the cloud resume instruction is treated the
 * same way, as a well-behaved cloud model would. Either way the continuation is the remainder of
 * the answer the conversation would have had without the prefix, so resumed text equals uncut text.
 * `answerLength` gives that answer's length from the prompt it answers (without the prefix).
 */
export function planCompletion(seed: number, messages: SimMessage[], answerLength: (askedTokens: number) => number): Completion {
  const { asked, prefix } = splitPrefix(messages);
  const request = [...asked].reverse().find((m) => m.role === 'user')?.content ?? '';
  const conversation = asked.map((m) => `${m.role}: ${m.content}`).join('\n');
  const full = answerTokens(seed, conversation, request, answerLength(estimatePromptTokens(asked)));
  return { tokens: prefix ? continuation(full, prefix, seed, conversation, request) : full, promptTokens: estimatePromptTokens(messages) };
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

function continuation(full: string[], prefix: string, seed: number, conversation: string, request: string): string[] {
  const text = full.join('');
  if (text.startsWith(prefix)) return tokenize(text.slice(prefix.length));
  // A prefix the simulator did not write: continue it plausibly, still deterministically.
  return answerTokens(seed, `${conversation}\nassistant: ${prefix}`, request, Math.max(1, full.length - tokenize(prefix).length));
}
