import { z } from 'zod';
import { wellFormed } from '../../services/text-input';
import type { ChatRequest } from '../../services/chat-request';

/**
 * The request bodies of the compatible APIs, parsed into one ChatRequest. Fields the APIs define
 * and Switchyard does not use (top_p, seed, keep_alive…) are accepted and ignored, so clients that
 * always send them keep working; fields it uses are checked, and a bad one is named.
 */

const content = (label: string) => wellFormed(z.string({ error: `${label} must be text.` }), label);
const role = z.enum(['system', 'developer', 'user', 'assistant'], { error: 'role must be system, user or assistant.' }).transform((r) => (r === 'developer' ? 'system' : r));
const modelField = z.string({ error: 'model is required.' }).trim().min(1, 'model is required.');

const openaiContent = z.union(
  [content('content'), z.array(z.object({ type: z.literal('text'), text: content('content') })).transform((parts) => parts.map((p) => p.text).join(''))],
  { error: 'content must be text, or an array of text parts.' },
);

export const openaiChatBody = z.object({
  model: modelField,
  messages: z.array(z.object({ role, content: openaiContent }), { error: 'messages must be an array of messages.' }).min(1, 'messages must not be empty.'),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().positive('max_tokens must be a positive integer.').nullish(),
  max_completion_tokens: z.number().int().positive('max_completion_tokens must be a positive integer.').nullish(),
  temperature: z.number().min(0, 'temperature must be between 0 and 2.').max(2, 'temperature must be between 0 and 2.').nullish(),
  stop: z.union([content('stop'), z.array(content('stop')).max(4, 'stop takes at most 4 sequences.')]).nullish(),
  n: z.literal(1, { error: 'Only n = 1 is supported.' }).nullish(),
});
export type OpenAIChatBody = z.infer<typeof openaiChatBody>;

export function chatFromOpenAI(body: OpenAIChatBody): ChatRequest {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    messages: body.messages,
    ...(maxTokens ? { maxTokens } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(stop?.length ? { stop } : {}),
  };
}

const ollamaOptions = z
  .object({
    temperature: z.number().min(0, 'options.temperature must not be negative.').nullish(),
    // -1 and -2 are Ollama's "no limit" and "fill the context".
    num_predict: z.number().int().nullish(),
    stop: z.array(content('stop')).nullish(),
  })
  .nullish();

export const ollamaChatBody = z.object({
  model: modelField,
  messages: z.array(z.object({ role, content: content('content') })).min(1, 'messages must not be empty.'),
  stream: z.boolean().nullish(),
  options: ollamaOptions,
});

export const ollamaGenerateBody = z.object({
  model: modelField,
  prompt: content('prompt').nullish(),
  system: content('system').nullish(),
  stream: z.boolean().nullish(),
  options: ollamaOptions,
});

type OllamaOptions = z.infer<typeof ollamaOptions>;

export function chatFromOllama(messages: ChatRequest['messages'], options: OllamaOptions): ChatRequest {
  const maxTokens = options?.num_predict && options.num_predict > 0 ? options.num_predict : undefined;
  return {
    messages,
    ...(maxTokens ? { maxTokens } : {}),
    ...(options?.temperature != null ? { temperature: options.temperature } : {}),
    ...(options?.stop?.length ? { stop: options.stop } : {}),
  };
}
