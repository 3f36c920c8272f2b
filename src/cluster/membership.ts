// The member table and failure detection. Every node watches every member directly (full mesh): a member is alive
// from the hello that introduced it until it says goodbye (left) or is not heard from for failureTimeoutMs (dead).
// Gossip only tells a node whom to dial; it never marks anyone alive or dead second-hand, so one node's mistaken view
// cannot spread. Pure bookkeeping with an injected clock: no sockets, no timers.
import type { NodeIdentity, MemberDigest } from './protocol.js';
import type { ClusterEvents, MemberInfo } from './types.js';

export type MembershipEvent = 'member.joined' | 'member.left' | 'member.failed';

export interface MembershipOptions {
  failureTimeoutMs: number;
  now: () => number;
  /** Receives a snapshot of the member, never the live record. */
  onEvent: (event: MembershipEvent, ...args: ClusterEvents[MembershipEvent]) => void;
}

export class Membership {
  readonly #options: MembershipOptions;
  readonly #members = new Map<number, MemberInfo>();

  constructor(options: MembershipOptions) {
    this.#options = options;
  }

  /**
   * Records a completed hello. A new member, a dead or departed one coming back, or a new instance of an index all
   * give member.joined; a replaced instance that was still alive first gets member.failed. Returns the record.
   */
  join(identity: NodeIdentity, protocolVersion: number): MemberInfo {
    const now = this.#options.now();
    const existing = this.#members.get(identity.index);
    if (existing && existing.instanceId === identity.instanceId && existing.state === 'alive') {
      existing.lastHeard = now;
      return existing;
    }
    if (existing && existing.state === 'alive') {
      existing.state = 'dead';
      this.#emit('member.failed', existing);
    }
    const member: MemberInfo = {
      index: identity.index,
      address: identity.address,
      role: identity.role,
      state: 'alive',
      lastHeard: now,
      version: identity.version,
      instanceId: identity.instanceId,
      protocolVersion,
    };
    this.#members.set(identity.index, member);
    this.#emit('member.joined', member);
    return member;
  }

  /**
   * The alive member already holding `identity`'s index under another instance, if that holder still counts as
   * present (`isConnected`); otherwise the newcomer is taken as its restart.
   */
  conflictWith(identity: NodeIdentity, isConnected: (index: number) => boolean): MemberInfo | undefined {
    const existing = this.#members.get(identity.index);
    if (!existing || existing.state !== 'alive' || existing.instanceId === identity.instanceId) return undefined;
    return isConnected(existing.index) ? { ...existing } : undefined;
  }

  /**
   * Whether gossip about this instance needs no new link: it has left (it will not be back under this instance), or
   * it is alive and connected already.
   */
  accountedFor(digest: MemberDigest, isConnected: (index: number) => boolean): boolean {
    const member = this.#members.get(digest.index);
    if (!member || member.instanceId !== digest.instanceId) return false;
    return member.state === 'left' || (member.state === 'alive' && isConnected(digest.index));
  }

  /** Notes a frame from the member. False when it is not the current alive instance: the frame must be ignored. */
  heard(index: number, instanceId: string): boolean {
    const member = this.#members.get(index);
    if (!member || member.instanceId !== instanceId || member.state !== 'alive') return false;
    member.lastHeard = this.#options.now();
    return true;
  }

  /** A goodbye from the member: member.left, unless this instance is already gone. */
  leave(index: number, instanceId: string): boolean {
    const member = this.#members.get(index);
    if (!member || member.instanceId !== instanceId || member.state !== 'alive') return false;
    member.state = 'left';
    this.#emit('member.left', member);
    return true;
  }

  /**
   * Declares dead every alive member not heard from within failureTimeoutMs and returns them. Called once per
   * heartbeat interval, so a failure is seen at most failureTimeoutMs + heartbeatIntervalMs after the last frame.
   */
  detectFailures(): MemberInfo[] {
    const now = this.#options.now();
    const failed: MemberInfo[] = [];
    for (const member of this.#members.values()) {
      if (member.state === 'alive' && now - member.lastHeard > this.#options.failureTimeoutMs) {
        member.state = 'dead';
        failed.push({ ...member });
        this.#emit('member.failed', member);
      }
    }
    return failed;
  }

  get(index: number): MemberInfo | undefined {
    const member = this.#members.get(index);
    return member && { ...member };
  }

  isAlive(index: number): boolean {
    return this.#members.get(index)?.state === 'alive';
  }

  /** Every member ever seen (self excluded), by index. */
  all(): MemberInfo[] {
    return [...this.#members.values()].sort((a, b) => a.index - b.index).map((m) => ({ ...m }));
  }

  alive(): MemberInfo[] {
    return this.all().filter((m) => m.state === 'alive');
  }

  /** What this node gossips: its alive members. */
  digest(): MemberDigest[] {
    return this.alive().map(({ index, instanceId, address, role }) => ({ index, instanceId, address, role }));
  }

  #emit(event: MembershipEvent, member: MemberInfo): void {
    this.#options.onEvent(event, { ...member });
  }
}
