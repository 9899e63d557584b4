import net from 'node:net';

/**
 * A TCP proxy in front of one server, which can partition it from its clients: while partitioned
 * the bytes of open connections are dropped both ways and new connections are accepted and never
 * answered, as a network that silently loses packets looks to the caller (no reset, no refusal).
 * Healing resets the connections that lived through the partition (their streams lost bytes), as
 * TCP's retransmission timeout would, and forwards again.
 */
export interface TcpProxy {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections that saw the partition. */
  readonly partitionedConnections: number;
  partition(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: URL): Promise<TcpProxy> {
  let partitioned = false;
  let connections = 0;
  const touched = new Set<net.Socket>();
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    open.add(client);
    client.on('close', () => {
      open.delete(client);
      touched.delete(client);
    });
    client.on('error', () => client.destroy());
    if (partitioned) {
      touched.add(client);
      client.resume();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).on('close', end);
    client.on('close', end);
    // Written by hand, not piped: a partition must drop bytes, not buffer them for later.
    client.on('data', (chunk) => {
      if (partitioned) touched.add(client);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (partitioned) touched.add(client);
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let partitionedConnections = 0;
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get partitionedConnections() {
      return partitionedConnections;
    },
    partition() {
      partitioned = true;
      for (const socket of open) touched.add(socket);
    },
    heal() {
      partitioned = false;
      partitionedConnections += touched.size;
      for (const socket of touched) socket.destroy();
      touched.clear();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
