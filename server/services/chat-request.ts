import { z } from 'zod';
import type { ChatMessage } from '../llm/types';

/**
 * A chat request as a job stores it (Job.chat) and its workflow reads it back: the conversation
 * and the sampling options, whichever API (OpenAI- or Ollama-compatible) it came through.
 */
export interface ChatRequest {
  messages: ChatMessage[];
  /** Completion tokens asked for; the catalogue's and the tier's caps still apply. */
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
}

export const storedChat = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  stop: z.array(z.string()).optional(),
}) satisfies z.ZodType<ChatRequest>;

/** What the feed and the live queue show as the job's "requirements": the last thing the user said. */
export function chatTitle(chat: ChatRequest): string {
  return chat.messages.findLast((m) => m.role === 'user')?.content ?? chat.messages.at(-1)!.content;
}

/** Characters of the whole conversation: what the tier's prompt-size limit counts. */
export const chatChars = (chat: ChatRequest) => chat.messages.reduce((sum, m) => sum + m.content.length, 0);
