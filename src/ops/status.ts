// Health of one node: components register checks; snapshot() builds the /status/v2 body for monitoring and
// lbStatus() the yes/no a load balancer needs. Every check runs under a deadline, so one hung dependency cannot
// hang the status endpoints, and at most one run of each check is in flight however often the balancer polls.
import type { NodeRole } from '../config/types.js';
import { OpsError } from './errors.js';

export interface HealthCheck {
  name: string;
  /** A failed critical component takes the node out of the load balancer's pool. */
  critical: boolean;
  /** Resolves when healthy; throws (or rejects) with a short message when not. */
  check(): Promise<void>;
}

export interface ComponentStatus {
  status: 'OK' | 'FAILED';
  critical: boolean;
  /** Why it failed: the error's first line, truncated; never a stack trace. */
  detail?: string;
}

export type ClusterState = 'standalone' | 'quorum' | 'read-only' | 'unavailable';

export interface ClusterMember {
  name?: string;
  index: number;
  /** Back-channel host:port (standalone: none). */
  address?: string;
  role: NodeRole;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  /** ISO time this node last heard from the member. */
  lastHeard?: string;
  version?: string;
  /** True for the node answering. */
  self: boolean;
}

export interface ClusterStatus {
  /** Quorum lost: cluster-wide writes are refused, sign-ins with existing credentials still work. */
  readOnly: boolean;
  state: ClusterState;
  /** Configured members (initialHosts plus this node) and how many of them this node can talk to. */
  configuredMembers?: number;
  reachableMembers?: number;
  members: ClusterMember[];
}

/** Supplied by the cluster layer; a standalone node uses standaloneCluster(). */
export type ClusterStatusProvider = () => ClusterStatus | Promise<ClusterStatus>;

export interface NodeIdentity {
  name: string;
  index: number;
  role: NodeRole;
}

/** The body of GET /status/v2. */
export interface StatusBody {
  node: NodeIdentity;
  version: string;
  uptimeSeconds: number;
  startedAt: string;
  components: Record<string, ComponentStatus>;
  ClusterStatus: ClusterStatus;
  /** Records this node holds per state service, as acting owner and as copy (peer backend only). */
  State?: Record<string, unknown>;
}

/** The answer of GET /status/v2/lbstatus. `reason` names components, never their error details. */
export interface LbStatus {
  ok: boolean;
  reason?: string;
}

export interface StatusRegistryOptions {
  node: NodeIdentity;
  version: string;
  /** Default: standaloneCluster(node). */
  cluster?: ClusterStatusProvider;
  /** Deadline of each check and of the cluster provider, in ms. Default 2000. */
  timeoutMs?: number;
  /** Clock in ms since the epoch; injected by tests. */
  now?: () => number;
  /** What this node holds of the shared runtime state (records per service); published as `State`. */
  stateHeld?: () => Promise<Record<string, unknown>>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;
const MAX_DETAIL = 200;

export function standaloneCluster(node: NodeIdentity): ClusterStatusProvider {
  return () => ({ readOnly: false, state: 'standalone', members: [{ ...node, state: 'alive', self: true }] });
}

/** A failure message safe for a status page: first line only, credentials in URLs masked, bounded length. */
export function safeDetail(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : 'check failed';
  const line = (raw.split('\n')[0] ?? '').trim().replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
  const text = line || 'check failed';
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 3)}...` : text;
}

const TIMED_OUT = Symbol('timed out');

export class StatusRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly node: NodeIdentity;
  private readonly version: string;
  private readonly cluster: ClusterStatusProvider;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly stateHeld: (() => Promise<Record<string, unknown>>) | undefined;
  private ready = false;

  constructor(options: StatusRegistryOptions) {
    this.node = { ...options.node };
    this.version = options.version;
    this.cluster = options.cluster ?? standaloneCluster(this.node);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.stateHeld = options.stateHeld;
  }

  /** Adds a component's check; returns a function that removes it (for components that stop). */
  register(check: HealthCheck): () => void {
    if (!check.name) throw new OpsError('OPS_INVALID_CHECK', 'a health check needs a name');
    if (this.checks.has(check.name)) {
      throw new OpsError('OPS_DUPLICATE_CHECK', `a health check named '${check.name}' is already registered`);
    }
    this.checks.set(check.name, check);
    return () => {
      if (this.checks.get(check.name) === check) this.checks.delete(check.name);
    };
  }

  /** Called once wiring has finished; until then lbStatus() reports the node as starting. */
  markReady(): void {
    this.ready = true;
  }

  /** Why the node is not ready yet (e.g. 'catching up with the cluster'), shown by lbstatus. */
  private startingReason = 'starting';
  setStarting(reason: string): void {
    this.startingReason = reason;
  }

  /** Out of the balancer's pool for maintenance (state synchronisation switched off by an administrator). */
  private maintenance = false;
  setMaintenance(on: boolean): void {
    this.maintenance = on;
  }

  get isReady(): boolean {
    return this.ready;
  }

  async snapshot(): Promise<StatusBody> {
    const checks = [...this.checks.values()];
    const [results, cluster, held] = await Promise.all([
      Promise.all(checks.map((c) => this.run(c))), this.clusterStatus(), this.heldState(),
    ]);
    const components: Record<string, ComponentStatus> = {};
    checks.forEach((c, i) => { components[c.name] = results[i]!; });
    return {
      node: { ...this.node },
      version: this.version,
      uptimeSeconds: Math.max(0, Math.floor((this.now() - this.startedAt) / 1000)),
      startedAt: new Date(this.startedAt).toISOString(),
      components,
      ClusterStatus: cluster,
      ...(held !== undefined ? { State: held } : {}),
    };
  }

  /** Out of the pool while starting, when the cluster says this node cannot serve, or a critical check fails. */
  async lbStatus(): Promise<LbStatus> {
    if (!this.ready) return { ok: false, reason: this.startingReason };
    if (this.maintenance) return { ok: false, reason: 'maintenance' };
    const critical = [...this.checks.values()].filter((c) => c.critical);
    const [results, cluster] = await Promise.all([Promise.all(critical.map((c) => this.run(c))), this.clusterStatus()]);
    if (cluster.state === 'unavailable') return { ok: false, reason: 'cluster unavailable' };
    const failed = critical.filter((_, i) => results[i]!.status === 'FAILED').map((c) => c.name);
    return failed.length > 0 ? { ok: false, reason: `failed: ${failed.join(', ')}` } : { ok: true };
  }

  private async run(check: HealthCheck): Promise<ComponentStatus> {
    // Single flight: a check still running (or hung) is joined, not started again, so polls cannot pile up.
    let pending = this.inFlight.get(check.name);
    if (!pending) {
      pending = Promise.resolve().then(() => check.check());
      this.inFlight.set(check.name, pending);
      const clear = () => { if (this.inFlight.get(check.name) === pending) this.inFlight.delete(check.name); };
      pending.then(clear, clear);
    }
    try {
      const outcome = await this.withDeadline(pending);
      if (outcome === TIMED_OUT) {
        return { status: 'FAILED', critical: check.critical, detail: `no answer within ${this.timeoutMs} ms` };
      }
      return { status: 'OK', critical: check.critical };
    } catch (err) {
      return { status: 'FAILED', critical: check.critical, detail: safeDetail(err) };
    }
  }

  private async heldState(): Promise<Record<string, unknown> | undefined> {
    if (!this.stateHeld) return undefined;
    try {
      const held = await this.withDeadline(this.stateHeld());
      return held === TIMED_OUT ? undefined : held;
    } catch {
      return undefined;
    }
  }

  private async clusterStatus(): Promise<ClusterStatus> {
    try {
      const status = await this.withDeadline(Promise.resolve().then(() => this.cluster()));
      if (status !== TIMED_OUT) return status;
    } catch {
      // Fall through: a cluster layer that cannot say where it stands cannot promise consistent answers either.
    }
    return { readOnly: true, state: 'unavailable', members: [] };
  }

  private async withDeadline<T>(work: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => { timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT); });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
