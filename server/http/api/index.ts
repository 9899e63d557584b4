import express from 'express';
import type { Services } from '../../services';
import { backendRegistrationRouter } from '../backend-registration';
import { ollamaRouter } from './ollama';
import { openaiRouter } from './openai';

/**
 * The OpenAI- and Ollama-compatible APIs, and backends registering themselves. Mounted ahead of the web app's middleware: they stream
 * (compression would hold their events back), authenticate by bearer key rather than cookie (so
 * the cross-site check does not apply), and cap and parse their own bodies.
 */
export function apiRouter(services: Services, { backendRegistrationToken }: { backendRegistrationToken?: string | undefined } = {}) {
  const router = express.Router();
  router.use('/api/backends', backendRegistrationRouter(services, backendRegistrationToken));
  router.use('/v1', openaiRouter(services));
  router.use('/ollama', ollamaRouter(services));
  return router;
}
