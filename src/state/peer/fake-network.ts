// An in-memory cluster for unit tests of the peer backend: N fake nodes in one process, each a ClusterRpc. It keeps
// the real transport's contract where the backend depends on it: payloads and results cross as JSON copies, every
// call has a deadline, a handler's error comes back as CLUSTER_REMOTE with its code, an unknown method as
// CLUSTER_NO_HANDLER, a dead member fails fast (CLUSTER_UNREACHABLE) and so do calls in flight when it dies, and
// quorum is counted over the configured N. kill() and revive() emit member.failed / member.joined like the real node.
import { randomUUID } from 'node:crypto';
import { ClusterError } from '../../cluster/errors.js';
import { firstMajority, majorityOf } from '../../cluster/quorum.js';
import type {
  BroadcastOptions, CallOptions, ClusterEventName, ClusterEvents, ClusterListener, ClusterRpc, ClusterStatus,
  MajorityOptions, MajorityResult, MemberInfo, MemberResult, RpcCaller, RpcHandler,
} from '../../cluster/types.js';

export interface FakeNetworkOptions {
  /** Node indexes. @default [1, 2, 3] */
  indexes?: number[];
  /** Back-channel address per index. @default `10.0.0.<index>:7901` */
  addresses?: Record<number, string>;
  /** Delay in ms before a remote call reaches its handler, fixed or per call. @default 0 (next macrotask) */
  delayMs?: number | ((call: { from: number; to: number; method: string }) => number);
  /** Deadline of calls that set none, ms. @default 1000 */
  rpcTimeoutMs?: number;
}

const ERROR_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

interface InFlight {
  from: number;
  to: number;
  fail: (error: ClusterError) => void;
}

export class FakeNetwork {
  readonly #nodes = new Map<number, FakeNode>();
  readonly #inFlight = new Set<InFlight>();
  readonly rpcTimeoutMs: number;
  delayMs: NonNullable<FakeNetworkOptions['delayMs']>;

  constructor(options: FakeNetworkOptions = {}) {
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? 1_000;
    this.delayMs = options.delayMs ?? 0;
    for (const index of options.indexes ?? [1, 2, 3]) {
      this.#nodes.set(index, new FakeNode(this, index, options.addresses?.[index] ?? `10.0.0.${index}:7901`));
    }
  }

  get size(): number {
    return this.#nodes.size;
  }

  get indexes(): number[] {
    return [...this.#nodes.keys()].sort((a, b) => a - b);
  }

  rpc(index: number): ClusterRpc {
    return this.node(index);
  }

  node(index: number): FakeNode {
    const node = this.#nodes.get(index);
    if (node === undefined) throw new RangeError(`no fake node ${index}`);
    return node;
  }

  nodes(): FakeNode[] {
    return this.indexes.map((index) => this.node(index));
  }

  isAlive(index: number): boolean {
    return this.node(index).alive;
  }

  /** The node crashes (or is cut off): every call to or from it fails, the others see member.failed. */
  kill(index: number): void {
    const node = this.node(index);
    if (!node.alive) return;
    node.alive = false;
    for (const call of [...this.#inFlight]) {
      if (call.to === index || call.from === index) {
        call.fail(new ClusterError('CLUSTER_UNREACHABLE', `member ${index} died during the call`, { member: index }));
      }
    }
    for (const other of this.nodes()) {
      if (other === node) continue;
      if (other.alive) other.emit('member.failed', node.info());
      node.emit('member.failed', other.info());
    }
  }

  /** The node comes back as a new instance (a restart); the others, and the node itself, see member.joined. */
  revive(index: number): void {
    const node = this.node(index);
    if (node.alive) return;
    node.alive = true;
    node.instanceId = randomUUID();
    for (const other of this.nodes()) {
      if (other === node || !other.alive) continue;
      other.emit('member.joined', node.info());
      node.emit('member.joined', other.info());
    }
  }

  /** Delivers one call: delay, liveness, handler, JSON copies, deadline, error mapping. */
  deliver<T>(from: FakeNode, to: number, method: string, payload: unknown, timeoutMs: number): Promise<T> {
    if (!from.alive) return Promise.reject(new ClusterError('CLUSTER_STOPPED', `member ${from.selfIndex} is stopped`));
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    const target = this.#nodes.get(to);
    if (target === undefined || !target.alive) {
      return Promise.reject(new ClusterError('CLUSTER_UNREACHABLE', `member ${to} is not alive`, { member: to }));
    }
    return new Promise<T>((resolve, reject) => {
      const call: InFlight = { from: from.selfIndex, to, fail: (error) => settle(error) };
      const timer = setTimeout(() => settle(new ClusterError('CLUSTER_TIMEOUT',
        `RPC ${method} to member ${to} got no answer within ${timeoutMs} ms`, { member: to })), timeoutMs);
      const settle = (error: ClusterError | undefined, value?: unknown) => {
        if (!this.#inFlight.delete(call)) return;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value as T);
      };
      this.#inFlight.add(call);
      const delay = typeof this.delayMs === 'function' ? this.delayMs({ from: from.selfIndex, to, method }) : this.delayMs;
      const arrive = (run: () => void) => (to !== from.selfIndex && delay > 0 ? setTimeout(run, delay) : setImmediate(run));
      arrive(() => {
        if (!this.#inFlight.has(call)) return;
        const handler = target.handlers.get(method);
        if (handler === undefined) {
          settle(new ClusterError('CLUSTER_NO_HANDLER', `no handler for RPC method '${method}'`, { member: to }));
          return;
        }
        let input: unknown;
        try {
          input = jsonCopy(payload);
        } catch (error) {
          settle(error as ClusterError);
          return;
        }
        Promise.resolve().then(() => handler(input, from.caller())).then(
          (result) => {
            try {
              settle(undefined, jsonCopy(result));
            } catch (error) {
              settle(error as ClusterError);
            }
          },
          (error: unknown) => {
            const code = (error as { code?: unknown } | null)?.code;
            const message = error instanceof Error ? error.message : 'handler failed';
            settle(new ClusterError('CLUSTER_REMOTE', `RPC ${method} failed on member ${to}: ${message}`, {
              member: to, remoteCode: typeof code === 'string' && ERROR_CODE_RE.test(code) ? code : 'CLUSTER_REMOTE', cause: error,
            }));
          },
        );
      });
    });
  }
}

export class FakeNode implements ClusterRpc {
  readonly selfIndex: number;
  readonly address: string;
  readonly handlers = new Map<string, RpcHandler>();
  alive = true;
  instanceId = randomUUID();
  readonly #network: FakeNetwork;
  readonly #listeners = new Map<ClusterEventName, Set<(...args: unknown[]) => void>>();

  constructor(network: FakeNetwork, index: number, address: string) {
    this.#network = network;
    this.selfIndex = index;
    this.address = address;
  }

  handle(method: string, handler: RpcHandler): () => void {
    if (this.handlers.has(method)) throw new Error(`a handler for RPC method '${method}' is already registered`);
    this.handlers.set(method, handler);
    return () => {
      if (this.handlers.get(method) === handler) this.handlers.delete(method);
    };
  }

  call<T = unknown>(index: number, method: string, payload?: unknown, options: CallOptions = {}): Promise<T> {
    return this.#network.deliver<T>(this, index, method, payload, options.timeoutMs ?? this.#network.rpcTimeoutMs);
  }

  async broadcast<T = unknown>(method: string, payload?: unknown, options: BroadcastOptions = {}): Promise<Array<MemberResult<T>>> {
    const targets = this.aliveMembers().map((m) => m.index);
    if (options.includeSelf) targets.push(this.selfIndex);
    const results = await Promise.all(targets.map((index) => this.call<T>(index, method, payload, options).then(
      (value): MemberResult<T> => ({ index, ok: true, value }),
      (error: unknown): MemberResult<T> => ({ index, ok: false, error: error as ClusterError }),
    )));
    return results.sort((a, b) => a.index - b.index);
  }

  callMajority<T = unknown>(method: string, payload?: unknown, options: MajorityOptions = {}): Promise<MajorityResult<T>> {
    const needed = majorityOf(this.#network.size);
    const targets = this.aliveMembers().map((m) => m.index);
    if ((options.includeSelf ?? true) && this.handlers.has(method)) targets.push(this.selfIndex);
    if (!this.alive || targets.length < needed) {
      return Promise.reject(new ClusterError('CLUSTER_NO_QUORUM', `RPC ${method} needs ${needed} answers`));
    }
    return firstMajority<T>(targets, needed, (index) => this.call<T>(index, method, payload, options),
      () => new ClusterError('CLUSTER_NO_QUORUM', `RPC ${method} cannot reach a majority`));
  }

  aliveMembers(): MemberInfo[] {
    if (!this.alive) return [];
    return this.#network.nodes().filter((n) => n !== this && n.alive).map((n) => n.info());
  }

  status(): ClusterStatus {
    const configured = this.#network.size;
    const reachable = this.alive ? 1 + this.aliveMembers().length : 0;
    const state = !this.alive ? 'unavailable' : reachable >= majorityOf(configured) ? 'quorum' : 'read-only';
    const others = this.#network.nodes().filter((n) => n !== this);
    const members = [this, ...others].map((n) => {
      const { index, address, role, lastHeard, version } = n.info();
      const seenAlive = n === this ? this.alive : this.alive && n.alive;
      return { index, address, role, state: seenAlive ? 'alive' as const : 'dead' as const, lastHeard, version, self: n === this };
    });
    return { state, readOnly: state !== 'quorum', configuredMembers: configured, reachableMembers: reachable, members };
  }

  on<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  off<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this {
    this.#listeners.get(event)?.delete(listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  emit<E extends ClusterEventName>(event: E, ...args: ClusterEvents[E]): void {
    for (const listener of [...this.#listeners.get(event) ?? []]) listener(...args);
  }

  info(): MemberInfo {
    return {
      index: this.selfIndex, address: this.address, role: 'engine', state: this.alive ? 'alive' : 'dead',
      lastHeard: Date.now(), version: 'fake', instanceId: this.instanceId, protocolVersion: 1,
    };
  }

  caller(): RpcCaller {
    return { index: this.selfIndex, address: this.address, role: 'engine', instanceId: this.instanceId };
  }
}

function jsonCopy(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (cause) {
    throw new ClusterError('CLUSTER_PROTOCOL', 'RPC payload or result is not JSON-serialisable', { cause });
  }
}
