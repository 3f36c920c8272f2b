// Where a record lives, as pure functions of the share group, the liveness of its members and the record's key, so
// every node computes the same answer from the same view without asking anyone.
//
// The order of a record ranks the share group: the node that created it (its owner, carried in routed ids) first,
// then its failover peers by address proximity to the owner (the nearest peer answers fastest, so a takeover adds
// the least latency), then by index. A record nobody in the cluster created (a partner's assertion id, a lockout key) has no owner: rendezvous
// hashing ranks the group by sha256(key:index), which spreads keys evenly and moves only the keys of a member that
// comes or goes. The first alive members of the order hold copies; the first alive and ready one acts as owner.
import { createHash } from 'node:crypto';

/** Members ranked by rendezvous score for `key`, highest first; ties (never in practice) by index. */
export function rendezvousOrder(key: string, group: readonly number[]): number[] {
  const scored = group.map((index) => ({ index, score: createHash('sha256').update(`${key}:${index}`).digest() }));
  scored.sort((a, b) => Buffer.compare(b.score, a.score) || a.index - b.index);
  return scored.map((s) => s.index);
}

/** The host part of a back-channel address: 'host:port' or '[v6]:port'. */
export function hostOf(address: string): string {
  const bracketed = /^\[([^\]]*)\]:\d+$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colon = address.lastIndexOf(':');
  return colon === -1 ? address : address.slice(0, colon);
}

export function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * `owner` first, then the rest of the group by the length of the host prefix they share with the owner (longest
 * first: same host, same subnet...), then by index. Unknown addresses ('') share nothing.
 */
export function ownerOrder(owner: number, group: readonly number[], addressOf: (index: number) => string): number[] {
  const ownerHost = hostOf(addressOf(owner));
  const others = group.filter((index) => index !== owner).map((index) => ({
    index,
    proximity: ownerHost === '' ? 0 : commonPrefixLength(ownerHost, hostOf(addressOf(index))),
  }));
  // Ties go round the ring from the owner (owner+1, owner+2, ... wrapping), not to the lowest index: otherwise node 1
  // would be the failover peer of every node of a same-subnet cluster and hold every copy.
  const ringDistance = (index: number) => (index - owner + 65_536) % 65_536;
  others.sort((a, b) => b.proximity - a.proximity || ringDistance(a.index) - ringDistance(b.index));
  return [owner, ...others.map((o) => o.index)];
}

/** What placement needs to know about the members right now. */
export interface Liveness {
  isAlive(index: number): boolean;
  /** False for a member still catching up after it (re)joined: it holds copies but must not act as owner yet. */
  isReady(index: number): boolean;
}

/**
 * The member that executes writes and one-time operations: the first alive and ready member of the order. When no
 * alive member is ready (a whole cluster starting at once) the first alive one acts: someone must.
 */
export function actingOwnerOf(order: readonly number[], liveness: Liveness): number | undefined {
  let firstAlive: number | undefined;
  for (const index of order) {
    if (!liveness.isAlive(index)) continue;
    if (liveness.isReady(index)) return index;
    firstAlive ??= index;
  }
  return firstAlive;
}

/**
 * The members that keep a copy: the first 1 + failoverPeers alive members of the order, and the acting owner
 * should it not be among them (it can only act on data it has). Returned in order.
 */
export function holdersOf(order: readonly number[], liveness: Liveness, failoverPeers: number,
  acting: number | undefined = actingOwnerOf(order, liveness)): number[] {
  const holders: number[] = [];
  for (const index of order) {
    if (!liveness.isAlive(index)) continue;
    if (holders.length < 1 + failoverPeers || index === acting) holders.push(index);
    else if (acting === undefined || holders.includes(acting)) break;
  }
  return holders;
}
