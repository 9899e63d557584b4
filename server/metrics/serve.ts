import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { checkMetricsAccess } from './registry';

export interface MetricsServerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  token: string | undefined;
  production: boolean;
}

/**
 * A worker's GET /metrics (WORKER_METRICS_PORT): a worker has no HTTP server of its own, and what
 * it counts (jobs, tokens, latencies) lives in its process. Same access rule as the web's.
 */
export async function serveMetrics(registry: Registry, options: MetricsServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://worker').pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('# only GET /metrics here\n');
      return;
    }
    const access = checkMetricsAccess(req.headers.authorization, options);
    if (!access.ok) {
      res.writeHead(access.status, { 'content-type': registry.contentType }).end(access.body);
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`# ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
