// Request/response over the back channel: a handler registry by method name, deadlines on every call, broadcast and
// wait-for-majority. The engine knows nothing of sockets: the node gives it a send function and the member table.
import { ClusterError } from './errors.js';
import type { RequestMessage, ResponseMessage, WireError } from './protocol.js';
import { firstMajority, majorityOf } from './quorum.js';
import type {
  BroadcastOptions, CallOptions, ClusterClock, MajorityOptions, MajorityResult, MemberResult, RpcCaller, RpcHandler,
} from './types.js';

export interface RpcEngineOptions {
  clock: ClusterClock;
  defaultTimeoutMs: number;
  /** This node, as the caller a local call reports. */
  self: () => RpcCaller;
  isAlive: (index: number) => boolean;
  /** Indices of the alive members other than self. */
  aliveIndices: () => number[];
  configuredMembers: () => number;
  /** Hands a request to the member's connection; throws a ClusterError when it cannot be sent. */
  send: (index: number, request: Omit<RequestMessage, 'v'>) => void;
}

interface Pending {
  index: number;
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: ClusterError) => void;
  timer: unknown;
}

/** Error codes are identifiers; anything else a handler throws is reported as CLUSTER_REMOTE. */
const ERROR_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_ERROR_MESSAGE = 1_000;

export class RpcEngine {
  readonly #options: RpcEngineOptions;
  readonly #handlers = new Map<string, RpcHandler>();
  readonly #pending = new Map<number, Pending>();
  /** Cancels every deadline race in progress (answers being computed, local calls), so close() leaves no timer. */
  readonly #races = new Set<(error: ClusterError) => void>();
  #nextId = 1;
  #closed: ClusterError | undefined;

  constructor(options: RpcEngineOptions) {
    this.#options = options;
  }

  handle(method: string, handler: RpcHandler): () => void {
    if (typeof method !== 'string' || method.length === 0) throw new TypeError('an RPC method needs a name');
    if (this.#handlers.has(method)) throw new Error(`a handler for RPC method '${method}' is already registered`);
    this.#handlers.set(method, handler);
    return () => {
      if (this.#handlers.get(method) === handler) this.#handlers.delete(method);
    };
  }

  hasHandler(method: string): boolean {
    return this.#handlers.has(method);
  }

  call<T = unknown>(index: number, method: string, payload?: unknown, options: CallOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    if (index === this.#options.self().index) return this.#callLocal<T>(method, payload, timeoutMs);
    if (!this.#options.isAlive(index)) {
      return Promise.reject(new ClusterError('CLUSTER_UNREACHABLE', `member ${index} is not alive`, { member: index }));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new ClusterError('CLUSTER_TIMEOUT', `RPC ${method} to member ${index} got no answer within ${timeoutMs} ms`,
          { member: index }));
      }, timeoutMs);
      this.#pending.set(id, { index, method, resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        this.#options.send(index, { type: 'request', id, method, payload, timeoutMs });
      } catch (error) {
        this.#settle(id, undefined, asClusterError(error, index));
      }
    });
  }

  async broadcast<T = unknown>(method: string, payload?: unknown, options: BroadcastOptions = {}): Promise<Array<MemberResult<T>>> {
    const targets = this.#options.aliveIndices();
    if (options.includeSelf) targets.push(this.#options.self().index);
    const results = await Promise.all(targets.map((index) => this.call<T>(index, method, payload, options).then(
      (value): MemberResult<T> => ({ index, ok: true, value }),
      (error: unknown): MemberResult<T> => ({ index, ok: false, error: asClusterError(error, index) }),
    )));
    return results.sort((a, b) => a.index - b.index);
  }

  callMajority<T = unknown>(method: string, payload?: unknown, options: MajorityOptions = {}): Promise<MajorityResult<T>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const needed = majorityOf(this.#options.configuredMembers());
    const targets = this.#options.aliveIndices();
    if ((options.includeSelf ?? true) && this.#handlers.has(method)) targets.push(this.#options.self().index);
    if (targets.length < needed) {
      return Promise.reject(new ClusterError('CLUSTER_NO_QUORUM',
        `RPC ${method} needs ${needed} answers but only ${targets.length} members can answer`));
    }
    return firstMajority<T>(targets, needed,
      (index) => this.call<T>(index, method, payload, options).catch((error: unknown) => { throw asClusterError(error, index); }),
      (answers, errors) => {
        // Past the deadline is a timeout; otherwise members failed or vanished and a majority cannot be had.
        const timedOut = errors.some((e) => e.error.code === 'CLUSTER_TIMEOUT');
        return new ClusterError(timedOut ? 'CLUSTER_TIMEOUT' : 'CLUSTER_NO_QUORUM',
          `RPC ${method} got ${answers} of the ${needed} answers a majority needs (${errors.length} failed)`,
          { cause: new AggregateError(errors.map((e) => e.error)) });
      });
  }

  /**
   * Runs the handler for a request from a member. Resolves undefined when the caller's deadline passes first: the
   * answer would arrive too late, and the request stops counting against the connection's in-flight limit.
   */
  async answer(request: RequestMessage, from: RpcCaller): Promise<Omit<ResponseMessage, 'v'> | undefined> {
    const { id, method } = request;
    const handler = this.#handlers.get(method);
    if (!handler) return { type: 'response', id, ok: false, error: noHandler(method) };
    const run = Promise.resolve()
      .then(() => handler(request.payload, from))
      .then((result): Omit<ResponseMessage, 'v'> => ({ type: 'response', id, ok: true, result }),
        (error: unknown): Omit<ResponseMessage, 'v'> => ({ type: 'response', id, ok: false, error: toWireError(error) }));
    try {
      return await this.#race(run, request.timeoutMs, () => undefined);
    } catch {
      return undefined; // closed: this node is stopping and answers nobody
    }
  }

  /** A response from member `from`; ignored unless it answers a pending call made to that member. */
  receive(from: number, response: ResponseMessage): void {
    const pending = this.#pending.get(response.id);
    if (!pending || pending.index !== from) return;
    if (response.ok) this.#settle(response.id, response.result);
    else this.#settle(response.id, undefined, fromWireError(response.error!, from, pending.method));
  }

  /** Fails every call waiting on the member at once, instead of letting each run into its deadline. */
  memberGone(index: number, reason: string): void {
    for (const [id, pending] of this.#pending) {
      if (pending.index === index) {
        this.#settle(id, undefined, new ClusterError('CLUSTER_UNREACHABLE',
          `RPC ${pending.method} to member ${index} failed: ${reason}`, { member: index }));
      }
    }
  }

  /** Rejects everything pending and every later call with `error`. */
  close(error: ClusterError): void {
    this.#closed = error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
    for (const cancel of [...this.#races]) cancel(error);
  }

  /** `work`, or onTimeout()'s value (or throw) after `ms`, or close()'s error: whichever comes first. */
  #race<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        this.#options.clock.clearTimeout(timer);
        this.#races.delete(cancel);
      };
      const cancel = (error: ClusterError) => {
        finish();
        reject(error);
      };
      const timer = this.#options.clock.setTimeout(() => {
        finish();
        try {
          resolve(onTimeout());
        } catch (error) {
          reject(error);
        }
      }, ms);
      this.#races.add(cancel);
      work.then((value) => { finish(); resolve(value); }, (error: unknown) => { finish(); reject(error); });
    });
  }

  #settle(id: number, value: unknown, error?: ClusterError): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#options.clock.clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /** A call to self goes through the same JSON copy, deadline and error mapping as a remote one. */
  async #callLocal<T>(method: string, payload: unknown, timeoutMs: number): Promise<T> {
    const self = this.#options.self();
    const handler = this.#handlers.get(method);
    if (!handler) throw fromWireError(noHandler(method), self.index, method);
    const copy = jsonCopy(payload);
    const work = Promise.resolve()
      .then(() => handler(copy, self))
      .then((result) => jsonCopy(result) as T)
      .catch((error: unknown) => { throw fromWireError(toWireError(error), self.index, method, error); });
    return this.#race(work, timeoutMs, () => {
      throw new ClusterError('CLUSTER_TIMEOUT', `RPC ${method} to self got no answer within ${timeoutMs} ms`,
        { member: self.index });
    });
  }
}

function noHandler(method: string): WireError {
  return { code: 'CLUSTER_NO_HANDLER', message: `no handler for RPC method '${method}'` };
}

function toWireError(error: unknown): WireError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : 'handler failed';
  return {
    code: typeof code === 'string' && ERROR_CODE_RE.test(code) ? code : 'CLUSTER_REMOTE',
    message: message.slice(0, MAX_ERROR_MESSAGE),
  };
}

function fromWireError(wire: WireError, member: number, method: string, cause?: unknown): ClusterError {
  if (wire.code === 'CLUSTER_NO_HANDLER') return new ClusterError('CLUSTER_NO_HANDLER', wire.message, { member });
  return new ClusterError('CLUSTER_REMOTE', `RPC ${method} failed on member ${member}: ${wire.message}`,
    { member, remoteCode: wire.code, cause });
}

function asClusterError(error: unknown, member: number): ClusterError {
  if (error instanceof ClusterError) return error;
  return new ClusterError('CLUSTER_PROTOCOL', error instanceof Error ? error.message : String(error),
    { member, cause: error });
}

function jsonCopy(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (cause) {
    throw new ClusterError('CLUSTER_PROTOCOL', 'RPC payload or result is not JSON-serialisable', { cause });
  }
}
