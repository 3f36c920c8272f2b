// Test support: a fake-network cluster with the peer backend on every node, and a facade that spreads calls over
// the nodes so the shared case suites prove that what one node writes, every other node reads.
import { DEFAULT_LOCAL_LIMITS, type LocalLimits } from '../local/index.js';
import type { StateServiceName } from '../types.js';
import { FakeNetwork, type FakeNetworkOptions } from './fake-network.js';
import { createPeerStateServices, type PeerStateServices } from './index.js';
import type { PeerLogger, PeerStateOptions } from './options.js';

export interface TestClusterOptions extends FakeNetworkOptions {
  failoverPeers?: number;
  majorityOnly?: boolean;
  readLocalOnly?: boolean;
  limits?: Partial<LocalLimits>;
  /** Per node: its preferredNodes setting. */
  preferredNodes?: (index: number) => PeerStateOptions['preferredNodes'];
  logger?: PeerLogger;
  rpcTimeoutMs?: number;
  maxPageBytes?: number;
  bulkTimeoutMs?: number;
}

/** A logger that keeps what it is given, so tests can assert on warnings. */
export class MemoryLogger implements PeerLogger {
  readonly lines: Array<{ level: 'warn' | 'info'; message: string; details: Record<string, unknown> }> = [];
  warn(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', message, details });
  }
  info(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', message, details });
  }
}

export class TestCluster {
  readonly net: FakeNetwork;
  readonly #options: TestClusterOptions;
  readonly #nodes = new Map<number, PeerStateServices>();

  constructor(options: TestClusterOptions = {}) {
    this.#options = options;
    this.net = new FakeNetwork(options);
  }

  /** Builds and catches up every node's services, all at once like a cluster starting. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    try {
      await Promise.all(cluster.net.indexes.map((index) => cluster.startNode(index)));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  node(index: number): PeerStateServices {
    const node = this.#nodes.get(index);
    if (node === undefined) throw new RangeError(`node ${index} has no services`);
    return node;
  }

  /** Creates node `index`'s services and runs their catch-up; resolves with the catch-up result. */
  async startNode(index: number) {
    const services = createPeerStateServices({
      rpc: this.net.rpc(index),
      limits: { ...DEFAULT_LOCAL_LIMITS, ...this.#options.limits },
      failoverPeers: this.#options.failoverPeers ?? 1,
      preferredNodes: this.#options.preferredNodes?.(index) ?? {},
      majorityOnly: this.#options.majorityOnly ?? false,
      readLocalOnly: this.#options.readLocalOnly ?? true,
      rpcTimeoutMs: this.#options.rpcTimeoutMs ?? 1_000,
      bulkTimeoutMs: this.#options.bulkTimeoutMs ?? 5_000,
      logger: this.#options.logger,
      maxPageBytes: this.#options.maxPageBytes,
      sweepIntervalMs: 0,
    });
    this.#nodes.set(index, services);
    return services.catchUp();
  }

  /** A crash: the node's services go away with it. */
  async kill(index: number): Promise<void> {
    this.net.kill(index);
    await this.#nodes.get(index)?.close();
    this.#nodes.delete(index);
  }

  /** A restart: a new instance with empty state, caught up from the others. */
  async revive(index: number) {
    this.net.revive(index);
    return this.startNode(index);
  }

  /** A view of one service whose every call goes to the next node in turn. */
  roundRobin<K extends StateServiceName>(name: K, indexes: number[] = [...this.#nodes.keys()]): PeerStateServices[K] {
    return roundRobin(indexes.map((index) => this.node(index)[name]));
  }

  /** Settles background work (re-replication, pruning) that membership events started. */
  async settle(ms = 50): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#nodes.values()].map((n) => n.close()));
    this.#nodes.clear();
  }
}

/** One object that sends each method call to the next of `services` in turn. */
export function roundRobin<T extends object>(services: T[]): T {
  let next = 0;
  return new Proxy(services[0]!, {
    get(target, property) {
      if (typeof Reflect.get(target, property) !== 'function') return Reflect.get(target, property);
      return (...args: unknown[]) => {
        const service = services[next++ % services.length]!;
        return (Reflect.get(service, property) as (...a: unknown[]) => unknown).apply(service, args);
      };
    },
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Addresses that make placement by proximity visible: 1 and 3 share a subnet, 2 is elsewhere, so the records
 * node 1 creates are held by 1 and 3 (with one failover peer), and node 2 holds none of them.
 */
export const SPREAD_ADDRESSES: Record<number, string> = { 1: '10.0.0.1:7901', 2: '10.0.1.2:7901', 3: '10.0.0.3:7901' };

/** Records of `service` node `index` holds, as acting owner and as copy. */
export async function held(cluster: TestCluster, index: number, service: StateServiceName): Promise<number> {
  const stats = (await cluster.node(index).stats())[service];
  return stats.owner + stats.replica;
}
