import net from 'node:net';

export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  address: string;
  /**
   * Cuts the link: every connection through the proxy is reset and new ones are reset on
   * arrival, as when a network partition or a restart separates a client from its server.
   */
  cut(): void;
  /** Lets connections through again. */
  heal(): void;
  close(): Promise<void>;
}

/** A TCP proxy on a free 127.0.0.1 port to `target` (host:port) whose link a test can cut. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const index = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, index), Number(target.slice(index + 1))];
  const open = new Set<net.Socket>();
  let cutOff = false;
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (cutOff) return client.resetAndDestroy();
    const upstream = net.connect(port, host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      cutOff = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    heal() {
      cutOff = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
