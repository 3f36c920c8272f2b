// Helpers for tests that run several real nodes in one process on loopback with ephemeral ports. Every wait is
// bounded, and stopAll() is meant for `after`/finally so no socket outlives its test.
import tls from 'node:tls';
import type { ClusterConfig } from './config.js';
import { ClusterNode } from './node.js';
import { deriveBackChannelPsk, pskIdentity } from './secret.js';
import { backChannelCiphers } from './transport.js';
import type { ClusterClock, ClusterEventName, ClusterEvents } from './types.js';

/**
 * Timings for tests: failures seen in ~0.9 s instead of ~2.5 s, yet no false failure when a loaded CI machine stalls
 * a process for a few hundred ms. Handshakes keep the default deadline for the same reason.
 */
export const FAST_TIMINGS = Object.freeze({ heartbeatIntervalMs: 100, failureTimeoutMs: 800, rpcTimeoutMs: 2_000 });

/** A fixed, valid secret: tests reproduce exactly. */
export function testSecret(fill = 1): string {
  return Buffer.alloc(32, fill).toString('base64url');
}

export function nodeConfig(index: number, overrides: Partial<ClusterConfig> = {}): Partial<ClusterConfig> {
  return { name: 'test', index, bindHost: '127.0.0.1', port: 0, secret: testSecret(), ...FAST_TIMINGS, ...overrides };
}

/** Binds `count` nodes (indices 0..count-1), gives each the full member list, starts them all. */
export async function startCluster(count: number, overrides: Partial<ClusterConfig> = {}): Promise<ClusterNode[]> {
  const nodes = Array.from({ length: count }, (_, i) => new ClusterNode(nodeConfig(i, overrides)));
  try {
    const addresses = await Promise.all(nodes.map((n) => n.listen()));
    for (const node of nodes) node.setInitialHosts(addresses);
    await Promise.all(nodes.map((n) => n.start()));
    await waitFor(() => nodes.every((n) => n.aliveMembers().length === count - 1), 5_000, 'the cluster to form');
    return nodes;
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

export async function stopAll(nodes: Iterable<ClusterNode | undefined>): Promise<void> {
  await Promise.all([...nodes].map((n) => n?.stop({ leave: false })));
}

/** Polls `predicate` every 10 ms; rejects naming `what` after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The next `event` from `node` matching `filter`, or a rejection after timeoutMs. */
export function nextEvent<E extends ClusterEventName>(node: ClusterNode, event: E, timeoutMs: number,
  filter: (...args: ClusterEvents[E]) => boolean = () => true): Promise<ClusterEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ClusterEvents[E]) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      node.off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      node.off(event, listener);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    node.on(event, listener);
  });
}

/** A TLS-PSK client holding the cluster key, speaking raw frames: for tests that play a misbehaving peer. */
export function connectRaw(address: string, clusterName: string, secret: string): Promise<tls.TLSSocket> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host, port, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: backChannelCiphers(),
      pskCallback: () => ({ psk: deriveBackChannelPsk(secret, clusterName), identity: pskIdentity(clusterName) }),
      checkServerIdentity: () => undefined,
    }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Collects whole frames from a raw socket. */
export function frameReader(socket: NodeJS.ReadableStream): { messages: unknown[]; closed: () => boolean } {
  let buffer = Buffer.alloc(0);
  let closed = false;
  const messages: unknown[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
      const length = buffer.readUInt32BE(0);
      messages.push(JSON.parse(buffer.subarray(4, 4 + length).toString('utf8')));
      buffer = buffer.subarray(4 + length);
    }
  });
  socket.on('close', () => { closed = true; });
  return { messages, closed: () => closed };
}

export function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}

/** A clock whose timers fire only when advance() passes them: deadline logic tested without waiting. */
export class ManualClusterClock implements ClusterClock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers still waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers in order (including ones they schedule within the window). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = target;
  }
}

/** A TLS-PSK server holding the cluster key that speaks raw frames: for tests that play a misbehaving acceptor. */
export async function listenRaw(clusterName: string, secret: string,
  onSocket: (socket: tls.TLSSocket) => void): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: backChannelCiphers(), dhparam: 'auto',
    pskCallback: () => deriveBackChannelPsk(secret, clusterName),
  }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
