import net from 'node:net';

/** A TCP port that was free a moment ago (the OS picked it); another process may still take it first. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a free port'));
      });
    });
  });
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly variableName: string,
  ) {
    super(`port ${port} is in use; set ${variableName} to another port`);
  }
}

/**
 * Fails with a message naming the variable that moves the port. Probes both the IPv4 loopback and
 * the wildcard address: a server bound to 0.0.0.0 or :: does not always make a 127.0.0.1 bind fail.
 */
export async function assertPortFree(port: number, variableName: string): Promise<void> {
  for (const host of ['127.0.0.1', '0.0.0.0', '::']) {
    const result = await tryListen(port, host);
    if (result === 'in-use') throw new PortInUseError(port, variableName);
  }
}

function tryListen(port: number, host: string): Promise<'free' | 'in-use' | 'unsupported'> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve('in-use');
      else resolve('unsupported'); // e.g. EAFNOSUPPORT on a host without IPv6
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
