// What the peer backend knows about the cluster at this moment: each service's share group, who is alive, who is
// ready to act as owner, and the members' addresses (for placement by proximity). It turns the cluster's membership
// events into the three the stores care about: a member joined, a member is gone, a member is ready.
//
// Readiness is what lets a returning owner take its records back without serving stale data: a member is not ready
// from the moment it (re)joins until it announces state.ready, which it does after it has pulled its records. A
// member already alive when this view was built counts as ready; this node itself is not ready until its own
// catch-up finished.
import type { ClusterRpc, MemberInfo, RpcCaller } from '../../cluster/types.js';
import type { StateServiceName } from '../types.js';
import { STATE_SERVICE_NAMES } from '../types.js';
import type { Liveness } from './placement.js';
import { envelope, READY_METHOD, WIRE_VERSION } from './wire.js';

/** Alive and ready members at one instant; computed once per operation or per scan. */
export interface LiveSnapshot extends Liveness {
  readonly alive: ReadonlySet<number>;
}

export interface MemberChange {
  member: MemberInfo;
  /** Alive members just before the change, self included. */
  aliveBefore: ReadonlySet<number>;
  /** Each service's share group just before the change. */
  groupBefore: (service: StateServiceName) => readonly number[];
}

export interface ViewListener {
  joined?(member: MemberInfo): void;
  /** A member failed or left. */
  gone?(change: MemberChange): void;
  /** A member announced that its catch-up is over; `completed` false when it ran out of time. */
  ready?(index: number, completed: boolean): void;
}

export class ClusterView {
  readonly self: number;
  readonly #rpc: ClusterRpc;
  readonly #preferred: Partial<Record<StateServiceName, readonly number[]>>;
  #groups = new Map<StateServiceName, readonly number[]>();
  #addresses = new Map<number, string>();
  #signature = '';
  #epoch = 0;
  #selfReady = false;
  /** Members seen (re)joining that have not announced state.ready since. */
  readonly #notReady = new Set<number>();
  /** The instance that last announced ready, per index: a ready that overtook its own join event still counts. */
  readonly #readyInstance = new Map<number, string>();
  readonly #listeners = new Set<ViewListener>();
  /** Members whose state synchronisation an administrator switched off (maintenance): placed like absent ones. */
  readonly #excluded = new Set<number>();
  readonly #cleanup: Array<() => void> = [];

  constructor(rpc: ClusterRpc, preferred: Partial<Record<StateServiceName, readonly number[]>>) {
    this.#rpc = rpc;
    this.self = rpc.selfIndex;
    this.#preferred = preferred;
    this.#refresh();
    const joined = (member: MemberInfo) => this.#onJoined(member);
    const failed = (member: MemberInfo) => this.#onGone(member);
    const left = (member: MemberInfo) => this.#onGone(member);
    rpc.on('member.joined', joined).on('member.failed', failed).on('member.left', left);
    this.#cleanup.push(
      () => rpc.off('member.joined', joined).off('member.failed', failed).off('member.left', left),
      rpc.handle(READY_METHOD, (payload, from) => this.#onReady(payload, from)),
    );
  }

  /** Changes whenever a share group or an address changes: cached record orders older than it are stale. */
  get epoch(): number {
    return this.#epoch;
  }

  get selfReady(): boolean {
    return this.#selfReady;
  }

  /** The members sharing `service`, ascending; this node may not be one of them. */
  group(service: StateServiceName): readonly number[] {
    return this.#groups.get(service) ?? [];
  }

  inGroup(service: StateServiceName, index: number = this.self): boolean {
    return this.group(service).includes(index);
  }

  addressOf(index: number): string {
    return this.#addresses.get(index) ?? '';
  }

  liveness(extraAlive?: number): LiveSnapshot {
    const alive = new Set<number>([this.self, ...this.#rpc.aliveMembers().map((m) => m.index).filter((i) => !this.#excluded.has(i))]);
    if (extraAlive !== undefined) alive.add(extraAlive);
    return {
      alive,
      isAlive: (index) => alive.has(index),
      isReady: (index) => (index === this.self ? this.#selfReady : !this.#notReady.has(index)),
    };
  }

  /** Alive members of the service's group other than this node. */
  aliveGroupPeers(service: StateServiceName): number[] {
    const { alive } = this.liveness();
    return this.group(service).filter((index) => index !== this.self && alive.has(index));
  }

  /**
   * Maintenance: an excluded member is placed as if it were gone (its records' copies move to other members and
   * nobody picks it as owner or failover peer); re-including it is a rejoin (it is not ready until it has pulled
   * its records again and said so). No-op when nothing changes.
   */
  setExcluded(index: number, excluded: boolean): void {
    if (index === this.self || this.#excluded.has(index) === excluded) return;
    const member = this.#rpc.aliveMembers().find((m) => m.index === index);
    if (excluded) {
      const before = this.#groups;
      const aliveBefore = this.liveness().alive;
      this.#excluded.add(index);
      if (!member) return;
      const change: MemberChange = { member, aliveBefore, groupBefore: (service) => before.get(service) ?? [] };
      for (const listener of [...this.#listeners]) listener.gone?.(change);
    } else {
      this.#excluded.delete(index);
      if (!member) return;
      this.#notReady.add(index);
      this.#readyInstance.delete(index);
      for (const listener of [...this.#listeners]) listener.joined?.(member);
    }
  }

  markSelfReady(): void {
    this.#selfReady = true;
  }

  subscribe(listener: ViewListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#listeners.clear();
  }

  #onJoined(member: MemberInfo): void {
    if (this.#readyInstance.get(member.index) !== member.instanceId) this.#notReady.add(member.index);
    this.#refresh();
    for (const listener of [...this.#listeners]) listener.joined?.(member);
  }

  #onGone(member: MemberInfo): void {
    const before = this.#groups;
    const aliveBefore = this.liveness(member.index).alive;
    this.#refresh();
    const change: MemberChange = { member, aliveBefore, groupBefore: (service) => before.get(service) ?? [] };
    for (const listener of [...this.#listeners]) listener.gone?.(change);
  }

  #onReady(payload: unknown, from: RpcCaller): { v: number } {
    const completed = envelope(payload).completed !== false;
    this.#readyInstance.set(from.index, from.instanceId);
    this.#notReady.delete(from.index);
    if (from.index !== this.self) {
      for (const listener of [...this.#listeners]) listener.ready?.(from.index, completed);
    }
    return { v: WIRE_VERSION };
  }

  /** Recomputes groups and addresses from the cluster's member table; bumps the epoch if anything changed. */
  #refresh(): void {
    const members = this.#rpc.status().members;
    const addresses = new Map<number, string>();
    for (const m of members) addresses.set(m.index, m.address);
    // The console administers the cluster and is out of the balanced pool: it holds no runtime state, so that
    // losing it (or taking it down for an upgrade) never makes a sign-in wait for an unreachable owner.
    const holders = members.filter((m) => m.state !== 'left' && m.role !== 'console').map((m) => m.index);
    const selfHolds = members.find((m) => m.self)?.role !== 'console';
    const known = [...new Set(selfHolds ? [this.self, ...holders] : holders)];
    const groups = new Map<StateServiceName, readonly number[]>();
    for (const service of STATE_SERVICE_NAMES) {
      const preferred = this.#preferred[service] ?? [];
      const group = preferred.length > 0 ? [...new Set(preferred)] : known;
      groups.set(service, Object.freeze([...group].sort((a, b) => a - b)));
    }
    const signature = JSON.stringify([[...groups], [...addresses].sort((a, b) => a[0] - b[0])]);
    this.#groups = groups;
    this.#addresses = addresses;
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.#epoch++;
    }
  }
}
