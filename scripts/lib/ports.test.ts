import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree, freePort } from './ports';

describe('ports', () => {
  it('names the variable that moves a busy port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(assertPortFree(port, 'PORT')).rejects.toThrow(`port ${port} is in use; set PORT to another port`);
    } finally {
      server.close();
    }
  });

  it('accepts a free port', async () => {
    await expect(assertPortFree(await freePort(), 'PG_PORT')).resolves.toBeUndefined();
  });
});
