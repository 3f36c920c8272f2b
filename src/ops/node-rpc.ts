// Operations over the back channel, answered by every cluster member for the console: what a node runs
// (configuration version, sync state), the connectivity check (this node pings every other member), state
// synchronisation on/off for maintenance, and the per-second sign-in counts.
import type { ComponentStatus } from './status.js';
import type { ClusterRpc } from '../cluster/types.js';
import type { SignInRate } from './signin-rate.js';

export const NODE_OPS_VERSION = 1;
export const NODE_INFO = 'node.info';
export const NODE_PING = 'node.ping';
export const NODE_ECHO = 'node.echo';
export const NODE_SYNC = 'node.sync';
export const NODE_STATS = 'node.stats';

export interface NodeInfo {
  v: number; index: number; name: string; configVersion: number; syncEnabled: boolean;
  /** The node's own /status/v2 components, so the console can show every engine's health in one place. */
  components?: Record<string, ComponentStatus>;
}
export interface PingResult { to: number; ok: boolean; ms?: number; error?: string }

export interface NodeOpsDeps {
  cluster: ClusterRpc;
  name: string;
  configVersion(): number;
  rates: SignInRate;
  /** Indexes whose state synchronisation is off (this node's included when it is). */
  syncDisabled: Set<number>;
  /** Applies a sync change for `index` on this node (lbstatus for itself, placement for others). */
  setSync(index: number, enabled: boolean): void;
  timeoutMs: number;
  /** This node's components (StatusRegistry.snapshot()); checks are bounded by the registry's own deadline. */
  components?: () => Promise<Record<string, ComponentStatus>>;
}

export function registerNodeOps(deps: NodeOpsDeps): () => void {
  const { cluster } = deps;
  const undo = [
    cluster.handle(NODE_INFO, async (): Promise<NodeInfo> => ({
      v: NODE_OPS_VERSION, index: cluster.selfIndex, name: deps.name, configVersion: deps.configVersion(),
      syncEnabled: !deps.syncDisabled.has(cluster.selfIndex),
      ...(deps.components ? { components: await deps.components() } : {}),
    })),
    cluster.handle(NODE_ECHO, () => ({ v: NODE_OPS_VERSION })),
    cluster.handle(NODE_PING, async (): Promise<{ v: number; results: PingResult[] }> => {
      const targets = cluster.status().members.filter((m) => !m.self && m.state !== 'left').map((m) => m.index);
      const results = await Promise.all(targets.map(async (to): Promise<PingResult> => {
        const started = performance.now();
        try {
          await cluster.call(to, NODE_ECHO, { v: NODE_OPS_VERSION }, { timeoutMs: deps.timeoutMs });
          return { to, ok: true, ms: Math.round((performance.now() - started) * 10) / 10 };
        } catch (err) {
          return { to, ok: false, error: (err as Error).message };
        }
      }));
      return { v: NODE_OPS_VERSION, results };
    }),
    cluster.handle(NODE_SYNC, (payload) => {
      const { index, enabled } = (payload ?? {}) as { index?: unknown; enabled?: unknown };
      if (typeof index !== 'number' || !Number.isInteger(index) || typeof enabled !== 'boolean') {
        throw Object.assign(new Error('node.sync needs { index, enabled }'), { code: 'NODE_BAD_REQUEST' });
      }
      if (enabled) deps.syncDisabled.delete(index);
      else deps.syncDisabled.add(index);
      deps.setSync(index, enabled);
      return { v: NODE_OPS_VERSION, index, enabled };
    }),
    cluster.handle(NODE_STATS, () => ({ v: NODE_OPS_VERSION, index: cluster.selfIndex, name: deps.name, samples: deps.rates.samples() })),
  ];
  return () => { for (const u of undo) u(); };
}
