// Bulk sync for a node that starts or rejoins: from every alive member of each service's share group, pull every
// record this node is now a holder of (and every member's revocation list), all services and members in parallel,
// within one deadline. The caller keeps the node out of the balancer (lbstatus 503) until this resolves, and only
// then lets it act as owner (state.ready): so a returning owner serves the newest data, never its stale copy.
import type { StateServiceName } from '../types.js';
import type { ClusterView } from './cluster-view.js';
import type { PullResult } from './record-sync.js';

export interface CatchUpSource {
  service: StateServiceName;
  /** Pulls this node's share from `member` until done or `deadline` (performance.now() ms). */
  pullFrom(member: number, deadline: number): Promise<PullResult>;
}

export interface CatchUpResult {
  /** Every pull finished before the deadline: this node holds everything it should. */
  completed: boolean;
  /** Records received (live and deleted). */
  records: number;
  /** Time it took. */
  ms: number;
}

/**
 * Pulls from the alive members of each source's group (only `onlyFrom`, when given: the member that just joined).
 * Sources whose group does not include this node are skipped: it holds none of their records.
 */
export async function catchUp(view: ClusterView, sources: readonly CatchUpSource[], timeoutMs: number,
  onlyFrom?: number): Promise<CatchUpResult> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  const pulls: Array<Promise<PullResult>> = [];
  for (const source of sources) {
    if (!view.inGroup(source.service)) continue;
    for (const member of view.aliveGroupPeers(source.service)) {
      if (onlyFrom === undefined || member === onlyFrom) pulls.push(source.pullFrom(member, deadline));
    }
  }
  const results = await Promise.all(pulls);
  return {
    completed: results.every((r) => r.completed),
    records: results.reduce((sum, r) => sum + r.records, 0),
    ms: Math.round(performance.now() - started),
  };
}
