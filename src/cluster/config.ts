// Configuration of the cluster layer: one plain typed object, every field with its unit, default and trade-off.
// The lead folds these into the one config schema (src/config/); until then resolveClusterConfig() is the entry point.
import { ClusterError } from './errors.js';

export type ClusterRole = 'engine' | 'console';

export interface ClusterConfig {
  /**
   * Cluster name: part of the TLS-PSK identity and of the key derivation, so two clusters sharing a secret by
   * mistake still cannot talk to each other. 1–64 characters of [A-Za-z0-9._-].
   * @default 'cohort'
   */
  name: string;
  /** This node's index, 0–65535, unique in the cluster; IDs the cluster routes carry it. @default 0 */
  index: number;
  /** 'engine' serves protocol traffic; 'console' holds the authoritative configuration. @default 'engine' */
  role: ClusterRole;
  /**
   * Interface the back channel listens on. Loopback is the safe default; set a private address (or 0.0.0.0 with an
   * explicit advertiseHost) to form a cluster across machines.
   * @default '127.0.0.1'
   */
  bindHost: string;
  /** TCP port of the back channel; 0 binds an ephemeral port (tests). @default 7901 */
  port: number;
  /**
   * Host other members dial to reach this node; empty = bindHost. Needed when bindHost is 0.0.0.0 or behind NAT.
   * @default ''
   */
  advertiseHost: string;
  /**
   * The configured members as host:port ([v6]:port for IPv6). This node may appear in the list (it is recognised
   * and skipped), so every node can share one list. The member set quorum is counted over is initialHosts ∪ self:
   * listing every member on every node keeps that count identical cluster-wide. Members learned by gossip are
   * dialled too but do not change the count.
   * @default []
   */
  initialHosts: string[];
  /**
   * Cluster secret, base64url, at least 32 bytes once decoded (generateClusterSecret() makes one). Never used as a
   * key directly: the TLS pre-shared key is derived from it with HKDF.
   * @default '' (must be set)
   */
  secret: string;
  /**
   * Milliseconds between heartbeats to each member. Shorter detects failures sooner at the cost of traffic:
   * N nodes send N·(N−1) small frames per interval.
   * @default 500
   */
  heartbeatIntervalMs: number;
  /**
   * A member not heard from for this many milliseconds is declared dead; detection takes at most
   * failureTimeoutMs + heartbeatIntervalMs. Must be at least 2 × heartbeatIntervalMs (one lost heartbeat is not a
   * failure) and at most 3000 (failover that waits longer makes users wait longer). Lower risks false failures on a
   * GC pause or a busy event loop.
   * @default 2000
   */
  failureTimeoutMs: number;
  /**
   * Deadline in milliseconds of every RPC (overridable per call), of each dial + TLS + hello handshake, and so of
   * start()'s join wait. Longer rides out slow peers; shorter keeps a user's request from hanging on a dying one.
   * @default 2000
   */
  rpcTimeoutMs: number;
  /**
   * Synchronous reads wait for a majority of the configured members instead of all alive ones: faster and still
   * consistent with majority writes, but reads see less than everything when a minority lags.
   * @default false
   */
  majorityOnly: boolean;
  /**
   * How many other members hold a copy of each record this node owns. More survives more simultaneous failures,
   * at the cost of one more write per record per peer. 0 = no failover (a dead owner's records are lost).
   * @default 1
   */
  failoverPeers: number;
  /**
   * Largest frame in bytes the back channel sends or accepts; a peer announcing a larger one is disconnected
   * before it is buffered. Bounds the memory one connection can make this node allocate.
   * @default 16777216 (16 MiB)
   */
  maxFrameBytes: number;
}

export const DEFAULT_CLUSTER_NAME = 'cohort';
export const DEFAULT_BACK_CHANNEL_PORT = 7901;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;
export const DEFAULT_FAILURE_TIMEOUT_MS = 2_000;
/** Upper bound on failureTimeoutMs: beyond it a dead owner's users wait too long for failover. */
export const MAX_FAILURE_TIMEOUT_MS = 3_000;
export const DEFAULT_RPC_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Smallest maxFrameBytes: a hello with a full member list must still fit. */
export const MIN_MAX_FRAME_BYTES = 4 * 1024;
/** Largest maxFrameBytes: a 4-byte length could say 4 GiB, far past what one message should ever be. */
export const MAX_MAX_FRAME_BYTES = 256 * 1024 * 1024;
export const MIN_SECRET_BYTES = 32;

export const DEFAULT_CLUSTER_CONFIG: Readonly<ClusterConfig> = Object.freeze({
  name: DEFAULT_CLUSTER_NAME,
  index: 0,
  role: 'engine',
  bindHost: '127.0.0.1',
  port: DEFAULT_BACK_CHANNEL_PORT,
  advertiseHost: '',
  initialHosts: [],
  secret: '',
  heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
  failureTimeoutMs: DEFAULT_FAILURE_TIMEOUT_MS,
  rpcTimeoutMs: DEFAULT_RPC_TIMEOUT_MS,
  majorityOnly: false,
  failoverPeers: 1,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
} satisfies ClusterConfig);

export interface HostPort {
  host: string;
  port: number;
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]+={0,2}$/;
// Deliberately loose: a hostname, IPv4 or bracketed IPv6; DNS decides the rest when the node dials.
const HOST_PORT_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** Parses 'host:port' or '[v6]:port'; throws a ClusterError naming `field` when malformed. */
export function parseHostPort(value: string, field = 'address'): HostPort {
  const m = HOST_PORT_RE.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw configError(field, `'${value}' is not host:port (IPv6 as [addr]:port, port 1-65535)`);
  }
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

/** The canonical 'host:port' text for an address, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** initialHosts in canonical host:port form, duplicates removed; throws CLUSTER_CONFIG on a malformed entry. */
export function canonicalHosts(hosts: readonly string[]): string[] {
  const canonical = hosts.map((h, i) => {
    const { host, port } = parseHostPort(h, `initialHosts[${i}]`);
    return formatHostPort(host, port);
  });
  return [...new Set(canonical)];
}

/** Decodes the base64url cluster secret; throws CLUSTER_CONFIG naming `secret` when unusable. */
export function decodeSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw configError('secret', 'is required (generate one with `cohort cluster init`)');
  }
  if (!BASE64URL_RE.test(secret)) throw configError('secret', 'must be base64url');
  const bytes = Buffer.from(secret, 'base64url');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw configError('secret', `must decode to at least ${MIN_SECRET_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Throws a CLUSTER_CONFIG ClusterError naming the first invalid field. */
export function validateClusterConfig(config: ClusterConfig): void {
  if (typeof config.name !== 'string' || !NAME_RE.test(config.name)) {
    throw configError('name', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  }
  integerIn(config.index, 'index', 0, 65535);
  if (config.role !== 'engine' && config.role !== 'console') {
    throw configError('role', `must be 'engine' or 'console', got ${JSON.stringify(config.role)}`);
  }
  if (typeof config.bindHost !== 'string' || config.bindHost.length === 0) {
    throw configError('bindHost', 'must be a host name or address');
  }
  integerIn(config.port, 'port', 0, 65535);
  if (typeof config.advertiseHost !== 'string') throw configError('advertiseHost', 'must be a string');
  const advertised = config.advertiseHost || config.bindHost;
  if (advertised === '0.0.0.0' || advertised === '::' || advertised === '[::]') {
    throw configError('advertiseHost', `must be set when bindHost is the wildcard ${config.bindHost}: others cannot dial it`);
  }
  if (!Array.isArray(config.initialHosts)) throw configError('initialHosts', 'must be a list of host:port');
  config.initialHosts.forEach((h, i) => {
    if (typeof h !== 'string') throw configError(`initialHosts[${i}]`, 'must be host:port');
    parseHostPort(h, `initialHosts[${i}]`);
  });
  decodeSecret(config.secret);
  integerIn(config.heartbeatIntervalMs, 'heartbeatIntervalMs', 10, MAX_FAILURE_TIMEOUT_MS / 2);
  integerIn(config.failureTimeoutMs, 'failureTimeoutMs', 2 * config.heartbeatIntervalMs, MAX_FAILURE_TIMEOUT_MS);
  integerIn(config.rpcTimeoutMs, 'rpcTimeoutMs', 1, 60_000);
  if (typeof config.majorityOnly !== 'boolean') throw configError('majorityOnly', 'must be true or false');
  integerIn(config.failoverPeers, 'failoverPeers', 0, 16);
  integerIn(config.maxFrameBytes, 'maxFrameBytes', MIN_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES);
}

/**
 * Defaults overlaid with the defined fields of `overrides`, validated. initialHosts is copied so later edits of the
 * caller's array cannot change a running node's configured member set.
 */
export function resolveClusterConfig(overrides: Partial<ClusterConfig>): ClusterConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG, ...defined };
  config.initialHosts = [...config.initialHosts];
  validateClusterConfig(config);
  return config;
}

function integerIn(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function configError(field: string, problem: string): ClusterError {
  return new ClusterError('CLUSTER_CONFIG', `cluster config: ${field} ${problem}`);
}
