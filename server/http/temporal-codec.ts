import type { PayloadCodec } from '@temporalio/common';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { readSessionToken, type SessionStore } from '../auth/session';
import { payloadFromJson, payloadToJson } from '../temporal/codec';

/**
 * The codec server the Temporal UI decodes payloads through (Temporal's codec-server protocol:
 * `POST <endpoint>/decode`, body and answer `{"payloads": [...]}` in proto3 JSON), mounted at
 * /api/temporal-codec. Only admins, by their session cookie: the UI sends it cross-origin when
 * TEMPORAL_CODEC_INCLUDE_CREDENTIALS is on, so the UI's origin (TEMPORAL_UI_URL) alone gets CORS
 * with credentials. Decode only: with write actions off the UI never encodes, and an encode
 * endpoint would let a session forge payloads.
 */

// Temporal caps a payload at 2 MB and the UI sends a page of them at a time.
const MAX_BODY = '8mb';
const decodeBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string().max(4_096)).optional(), data: z.string().optional() }))
    .max(1_000),
});

export function temporalCodecHandler({ sessions, codec, uiOrigin }: { sessions: SessionStore; codec: PayloadCodec; uiOrigin: string }) {
  const router = express.Router();

  /** Only the UI's own origin (or a request naming none: a script, the CLI) may go on. */
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== uiOrigin) {
      res.status(403).json({ error: 'this origin may not use the codec server' });
      return;
    }
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', uiOrigin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');
    next();
  };

  router.options('/decode', cors, (_req, res) => {
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  });

  router.post(
    '/decode',
    cors,
    async (req, res, next) => {
      // Before the body is read: nobody but an admin gets this far.
      const token = readSessionToken(req.headers.cookie);
      const user = token ? await sessions.getUser(token).catch(() => null) : null;
      if (!user) return void res.status(401).json({ error: 'sign in to Switchyard as an admin to decode payloads' });
      if (!user.isAdmin) return void res.status(403).json({ error: 'only admins may decode payloads' });
      next();
    },
    express.json({ limit: MAX_BODY }),
    async (req, res) => {
      const parsed = decodeBody.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json({ error: 'expected {"payloads": [{"metadata": {…}, "data": "…"}]} in proto3 JSON' });
      try {
        const decoded = await codec.decode(parsed.data.payloads.map(payloadFromJson));
        res.json({ payloads: decoded.map(payloadToJson) });
      } catch (error) {
        res.status(422).json({ error: `cannot decode: ${(error as Error).message}` });
      }
    },
  );

  // express.json's own refusals (too large, not JSON) as sentences, not an HTML stack.
  router.use(((error, _req, res, _next) => {
    const status = (error as { status?: number }).status ?? 500;
    res.status(status).json({ error: status === 413 ? `the body is over ${MAX_BODY}` : 'the body is not JSON' });
  }) satisfies express.ErrorRequestHandler);

  return router;
}
