import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorCore } from './core';
import { sendJson } from './http';
import { faultsSchema } from './options';

type Handler = (core: SimulatorCore, req: IncomingMessage, res: ServerResponse, body: unknown) => void;

/** Run-time control of one instance; reachable even while refuseConnections is set. */
export const adminPrefix = '/_sim/';

export const adminRoutes: Record<string, Handler> = {
  'GET /_sim/faults': (core, _req, res) => sendJson(res, 200, core.faults),
  'POST /_sim/faults': (core, _req, res, body) => {
    const parsed = faultsSchema.partial().safeParse(body);
    if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    core.setFaults(parsed.data);
    sendJson(res, 200, core.faults);
  },
  'GET /_sim/stats': (core, _req, res) => sendJson(res, 200, core.stats()),
  'GET /_sim/requests': (core, _req, res) => sendJson(res, 200, { requests: core.requests() }),
};
