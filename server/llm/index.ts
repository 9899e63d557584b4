export type { ChatMessage, ChatRequest, ChatResult, ChatRole, HealthReport, LlmBackend, ModelInfo } from './types';
export { BackendError, classifyError, type BackendErrorCode } from './errors';
export { createBackendClient, envBackends, parseBackendUrl, type BackendSpec } from './config';
export { createOllamaBackend, type OllamaBackendOptions } from './ollama';
export { createOpenAIBackend, type OpenAIBackendOptions } from './openai';
export { estimatePromptTokens, estimateTokens } from './estimate';
