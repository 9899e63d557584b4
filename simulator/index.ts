import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminPrefix, adminRoutes } from './admin-api';
import { SimulatorCore, type RequestRecord, type SimulatorStats } from './core';
import { BodyError, readJson, sendJson } from './http';
import { ollamaRoutes } from './ollama-api';
import { openaiRoutes } from './openai-api';
import type { Faults, SimulatorOptions } from './options';

export type { Disconnect, RequestRecord, SimulatorStats } from './core';
export { answerDigest } from './core';
export type { Faults, SimModel, SimulatorOptions } from './options';
export { defaultModels, defaultOptions, noFaults } from './options';

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:11434 (the OpenAI API is under /v1). */
  url: string;
  port: number;
  close(): Promise<void>;
  setFaults(faults: Partial<Faults>): void;
  configure(options: Partial<SimulatorOptions>): void;
  stats(): SimulatorStats;
  /** The most recent generation requests with their arrival, slot and end times (also GET /_sim/requests). */
  requests(): RequestRecord[];
}

type Route = (core: SimulatorCore, req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void> | void;

const routes: Record<SimulatorOptions['server'], Map<string, Route>> = {
  ollama: new Map(Object.entries({ ...ollamaRoutes, ...openaiRoutes, ...adminRoutes })),
  openai: new Map(Object.entries({ ...openaiRoutes, ...adminRoutes })),
};

/** An LLM server speaking the Ollama and OpenAI wire protocols, with deterministic answers and faults. */
export async function createSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const core = new SimulatorCore(options);
  const server = createServer((req, res) => {
    handle(core, req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(core.options.port, core.options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = core.options.host.includes(':') ? `[${core.options.host}]` : core.options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        core.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    setFaults: (faults) => core.setFaults(faults),
    configure: (patch) => core.configure(patch),
    stats: () => core.stats(),
    requests: () => core.requests(),
  };
}

async function handle(core: SimulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (core.faults.refuseConnections && !path.startsWith(adminPrefix)) {
    req.socket.destroy();
    return;
  }
  const route = routes[core.options.server].get(`${req.method} ${path}`);
  if (!route) {
    if (core.options.server === 'openai') {
      return sendJson(res, 404, { error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } });
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('404 page not found');
    return;
  }
  let body: unknown = {};
  if (req.method === 'POST') {
    try {
      body = await readJson(req);
    } catch (err) {
      if (err instanceof BodyError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  }
  await route(core, req, res, body);
}
