import type { ChatMessage } from '../server/llm/types';

/** Data that crosses the workflow/activity boundary; kept plain so histories stay readable. */

export interface PreparedJob {
  jobId: string;
  projectId: string;
  model: string;
  messages: ChatMessage[];
}

export interface GenerateInput {
  jobId: string;
  projectId: string;
  model: string;
  messages: ChatMessage[];
}

export interface GenerateOutput {
  text: string;
  model: string;
  backendId: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export type SaveResultInput = GenerateOutput & { jobId: string };

export interface NotifyInput {
  jobId: string;
  projectId: string;
  status: 'completed' | 'cancelled' | 'failed';
}

export interface FinishJobInput {
  jobId: string;
  status: 'cancelled' | 'failed';
  error: string | null;
}
