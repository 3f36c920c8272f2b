// A free TCP port on loopback for a server a test starts itself (it binds port 0 where it can, but slapd,
// postgres and cohort child processes are told their port in advance).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
