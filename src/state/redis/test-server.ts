// A throwaway redis-server for the redis backend's tests: its own process on a free loopback port, no persistence,
// every wait bounded, killed on stop() and, as a last resort, when the test process exits.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Why the redis tests cannot run here, or undefined when redis-server is installed. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error ? `redis-server is not installed (${probe.error.message}); apt-get install redis-server` : undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One PING over a raw socket: true on +PONG within `ms`. */
function pings(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export class RedisTestServer {
  #child: ChildProcess | undefined;
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  private constructor(readonly port: number, readonly extraArgs: readonly string[], readonly configFile?: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `configFile` comes first on the command line, as redis-server wants it (a Sentinel needs one it can rewrite). */
  static async start(extraArgs: readonly string[] = [], configFile?: string): Promise<RedisTestServer> {
    const server = new RedisTestServer(await freePort(), extraArgs, configFile);
    process.once('exit', server.#killOnExit);
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port; resolves once it answers PING, throws after 5 s. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn('redis-server', [
      ...(this.configFile === undefined ? [] : [this.configFile]), '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs,
    ], { stdio: 'ignore' });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (this.#child !== child) throw new Error('redis-server exited while starting');
      if (await pings(this.port, 200)) return;
      await sleep(20);
    }
    await this.stop();
    throw new Error(`redis-server did not answer on port ${this.port} within 5 s`);
  }

  /** Kills it as a crash would (SIGKILL) and waits for the exit, at most 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
    this.#child = undefined;
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: connections stay open but nothing answers. */
  freeze(frozen: boolean): void {
    this.#child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  async dispose(): Promise<void> {
    this.freeze(false);
    await this.stop();
    process.off('exit', this.#killOnExit);
  }
}
