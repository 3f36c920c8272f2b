// What the peer backend is built from: the cluster's RPC, the same entry caps as the local backend, and the knobs of
// DESIGN.md's "Runtime state services" (failover peers, preferred nodes, majority reads, timeouts). Every option
// with its unit and default; resolvePeerOptions() validates and fills them in once, and the stores share the result.
import type { ClusterRpc } from '../../cluster/types.js';
import { DEFAULT_MAX_FAILURES_PER_KEY, type LocalLimits } from '../local/index.js';
import { STATE_SERVICE_NAMES, systemClock, type Clock, type StateServiceName } from '../types.js';
import type { ClusterView } from './cluster-view.js';
import { DEFAULT_MAX_PAGE_BYTES } from './pager.js';
import type { VersionClock } from './version.js';

/** One copy besides the owner's survives any single node failure (cluster.failoverPeers). */
export const DEFAULT_FAILOVER_PEERS = 1;
/** Same as the cluster's default RPC deadline (cluster.rpcTimeoutMs). */
export const DEFAULT_RPC_TIMEOUT_MS = 2_000;
/** Longest catch-up before a starting node reports itself ready anyway (cluster.bulkTimeoutMs). */
export const DEFAULT_BULK_TIMEOUT_MS = 10_000;
/** Most failover peers: each one is one more synchronous write per record. */
export const MAX_FAILOVER_PEERS = 16;

/** The part of a logger the backend uses; a pino Logger fits. Messages never carry record ids or values. */
export interface PeerLogger {
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

export interface PeerStateOptions {
  /** The cluster's RPC: a ClusterNode, or the fake network in unit tests. */
  rpc: ClusterRpc;
  /** Entry caps per service, as for the local backend (state.local.*); each node holds at most this many. */
  limits: LocalLimits;
  /** Members holding a copy of each record besides its acting owner. 0 = a dead owner's records are lost. @default 1 */
  failoverPeers?: number;
  /**
   * Per service, the node indexes that share it (state.preferredNodes); missing or empty = every member the cluster
   * knows. A node outside a service's list stores none of its records and asks the members instead.
   * @default {}
   */
  preferredNodes?: Partial<Record<StateServiceName, readonly number[]>>;
  /**
   * Reads of a record this node holds no copy of ask every holder and take the newest of a majority of answers,
   * instead of asking the acting owner alone: survives a lagging owner, costs more messages. @default false
   */
  majorityOnly?: boolean;
  /** Deadline of every RPC the backend makes, in ms. @default DEFAULT_RPC_TIMEOUT_MS */
  rpcTimeoutMs?: number;
  /** Time catchUp() spends pulling records before it gives up, in ms. @default DEFAULT_BULK_TIMEOUT_MS */
  bulkTimeoutMs?: number;
  /** revocations.isRevoked() reads this node's copy (every member has the full list) instead of asking. @default true */
  readLocalOnly?: boolean;
  /** Bytes of JSON per catch-up or re-replication page; keep well below cluster.maxFrameBytes. @default 4 MiB */
  maxPageBytes?: number;
  /** Failed replica writes and catch-up problems go here. @default a logger that drops everything */
  logger?: PeerLogger;
  /** Judges expiry and stamps consumed codes. @default systemClock */
  clock?: Clock;
  /** ms between sweeps of expired entries, as for the local backend; 0 disables. @default 10,000 */
  sweepIntervalMs?: number;
  /** Most failure timestamps kept per login-failure key. @default DEFAULT_MAX_FAILURES_PER_KEY */
  maxFailuresPerKey?: number;
}

/** Options resolved, plus the view and version clock every store of one node shares. */
export interface PeerContext {
  rpc: ClusterRpc;
  view: ClusterView;
  versions: VersionClock;
  clock: Clock;
  logger: PeerLogger;
  limits: LocalLimits;
  failoverPeers: number;
  majorityOnly: boolean;
  rpcTimeoutMs: number;
  bulkTimeoutMs: number;
  readLocalOnly: boolean;
  maxPageBytes: number;
  sweepIntervalMs: number | undefined;
  maxFailuresPerKey: number;
}

export const silentLogger: PeerLogger = Object.freeze({ warn: () => {}, info: () => {} });

export type ResolvedOptions = Omit<PeerContext, 'view' | 'versions'> & {
  preferredNodes: Partial<Record<StateServiceName, readonly number[]>>;
};

/** Defaults filled in; throws RangeError naming the first bad option. */
export function resolvePeerOptions(options: PeerStateOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    rpc: options.rpc,
    limits: options.limits,
    failoverPeers: options.failoverPeers ?? DEFAULT_FAILOVER_PEERS,
    preferredNodes: options.preferredNodes ?? {},
    majorityOnly: options.majorityOnly ?? false,
    rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
    bulkTimeoutMs: options.bulkTimeoutMs ?? DEFAULT_BULK_TIMEOUT_MS,
    readLocalOnly: options.readLocalOnly ?? true,
    maxPageBytes: options.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
    sweepIntervalMs: options.sweepIntervalMs,
    maxFailuresPerKey: options.maxFailuresPerKey ?? DEFAULT_MAX_FAILURES_PER_KEY,
  };
  integer('failoverPeers', resolved.failoverPeers, 0, MAX_FAILOVER_PEERS);
  integer('rpcTimeoutMs', resolved.rpcTimeoutMs, 1, 600_000);
  integer('bulkTimeoutMs', resolved.bulkTimeoutMs, 1, 3_600_000);
  integer('maxPageBytes', resolved.maxPageBytes, 1_024, 256 * 1024 * 1024);
  integer('maxFailuresPerKey', resolved.maxFailuresPerKey, 1, Number.MAX_SAFE_INTEGER);
  for (const [name, value] of Object.entries(resolved.limits)) integer(`limits.${name}`, value, 1, Number.MAX_SAFE_INTEGER);
  for (const [service, list] of Object.entries(resolved.preferredNodes)) {
    if (!STATE_SERVICE_NAMES.includes(service as StateServiceName)) {
      throw new RangeError(`preferredNodes: unknown service '${service}'`);
    }
    for (const index of list ?? []) integer(`preferredNodes.${service}[]`, index, 0, 65_535);
  }
  return resolved;
}

function integer(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
