// The cluster layer as the rest of Cohort sees it. State backends (state/peer) and ops depend on these types and on
// the ClusterRpc interface only, never on ClusterNode, so they can be tested against a fake and wired to the real one.
import type { ClusterRole } from './config.js';
import type { ClusterError } from './errors.js';

export type { ClusterRole } from './config.js';

/** alive: heard within failureTimeoutMs. dead: not heard in time (crash, partition). left: said goodbye. */
export type MemberState = 'alive' | 'dead' | 'left';

export interface MemberInfo {
  index: number;
  /** host:port the member advertises for the back channel. */
  address: string;
  role: ClusterRole;
  state: MemberState;
  /** Epoch ms of the last frame received from it (for self: now). */
  lastHeard: number;
  /** Software version it runs. */
  version: string;
  /** Random per start: a restarted member is a new instance with the same index. */
  instanceId: string;
  /** Back-channel protocol version negotiated with it. */
  protocolVersion: number;
}

/**
 * quorum: more than half of the configured members (counting self) can talk: fully operational.
 * read-only: half or fewer: cluster-wide unique or durable writes must be refused.
 * unavailable: this node cannot serve (not started, stopped, back channel down).
 */
export type QuorumState = 'quorum' | 'read-only' | 'unavailable';

/** One row of /status/v2's member list. */
export interface MemberStatus {
  index: number;
  address: string;
  role: ClusterRole;
  state: MemberState;
  lastHeard: number;
  version: string;
  /** True for the node answering. */
  self: boolean;
}

export interface ClusterStatus {
  state: QuorumState;
  /** state !== 'quorum': writes that must be unique or durable cluster-wide are refused. */
  readOnly: boolean;
  /** Size of the configured member set (initialHosts ∪ self). */
  configuredMembers: number;
  /** Configured members this node can talk to, itself included. */
  reachableMembers: number;
  /** Self first, then every member ever seen, by index. */
  members: MemberStatus[];
}

/** Who sent a request; for a call a node makes to itself, the node itself. */
export interface RpcCaller {
  index: number;
  address: string;
  role: ClusterRole;
  instanceId: string;
}

/**
 * Answers one RPC method. The payload and the result must be JSON-serialisable: they cross the wire as JSON (and
 * are copied through JSON for local calls too, so a handler behaves the same whoever calls it). Throwing sends
 * { code, message } back: `code` is the error's own string code if it has one (e.g. STATE_UNAVAILABLE), else
 * CLUSTER_REMOTE. Stacks never leave the node.
 */
export type RpcHandler = (payload: unknown, from: RpcCaller) => unknown;

export interface CallOptions {
  /** Deadline in ms for this call; default rpcTimeoutMs. */
  timeoutMs?: number;
}

export interface BroadcastOptions extends CallOptions {
  /** Also run this node's own handler. @default false */
  includeSelf?: boolean;
}

export interface MajorityOptions extends CallOptions {
  /** Count this node's own answer when it has a handler for the method. @default true */
  includeSelf?: boolean;
}

export type MemberResult<T = unknown> =
  | { index: number; ok: true; value: T }
  | { index: number; ok: false; error: ClusterError };

export interface MajorityResult<T = unknown> {
  /** Answers needed: floor(configured / 2) + 1. */
  needed: number;
  /** The successful answers that made the majority (at least `needed`), by arrival. */
  answers: Array<{ index: number; value: T }>;
  /** Failures seen before the majority was reached. */
  errors: Array<{ index: number; error: ClusterError }>;
}

export interface StatusChange {
  previous: QuorumState;
  current: QuorumState;
}

/** Events a node emits; names follow noun.past_verb. */
export interface ClusterEvents {
  'member.joined': [member: MemberInfo];
  /** A member said goodbye (graceful stop). */
  'member.left': [member: MemberInfo];
  /** A member was not heard from within failureTimeoutMs, or was replaced by a restarted instance. */
  'member.failed': [member: MemberInfo];
  'status.changed': [change: StatusChange];
  /** Someone failed to connect: TLS handshake failure (wrong secret, plaintext) or a refused hello. */
  'connection.rejected': [info: { remoteAddress: string; reason: string }];
  /** A condition the operator must see: this node refused by the cluster, an auth failure dialling a member. */
  'error': [error: ClusterError];
}

export type ClusterEventName = keyof ClusterEvents;
export type ClusterListener<E extends ClusterEventName> = (...args: ClusterEvents[E]) => void;

/** The narrow interface the state backends use. */
export interface ClusterRpc {
  /** This node's index. */
  readonly selfIndex: number;
  /** Registers the handler for `method` (one per method); returns a function that unregisters it. */
  handle(method: string, handler: RpcHandler): () => void;
  /** Calls one member (self included); rejects CLUSTER_UNREACHABLE at once if it is not alive. */
  call<T = unknown>(index: number, method: string, payload?: unknown, options?: CallOptions): Promise<T>;
  /** Calls every alive member; settles within the deadline with one result per member, never rejects. */
  broadcast<T = unknown>(method: string, payload?: unknown, options?: BroadcastOptions): Promise<Array<MemberResult<T>>>;
  /**
   * Resolves once a majority of the configured members answered successfully; rejects CLUSTER_NO_QUORUM as soon as
   * that has become impossible, CLUSTER_TIMEOUT at the deadline.
   */
  callMajority<T = unknown>(method: string, payload?: unknown, options?: MajorityOptions): Promise<MajorityResult<T>>;
  /** Alive members other than self, by index. */
  aliveMembers(): MemberInfo[];
  status(): ClusterStatus;
  on<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this;
  off<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this;
}

/** Time and timers, injected so membership and deadlines can be tested without waiting. */
export interface ClusterClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: ClusterClock = Object.freeze<ClusterClock>({
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
});
