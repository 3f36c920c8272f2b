// Console API for the cluster: members with their health, configuration version and sync state; the
// connectivity check (every node pings every other one); state synchronisation off/on for one node's maintenance;
// and per-node sign-in rates for the console's chart. Answers are gathered over the back channel, each bounded.
import type { ClusterRpc } from '../cluster/types.js';
import type { DurableStore } from '../store/types.js';
import { badRequest, notFound } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import { NODE_INFO, NODE_OPS_VERSION, NODE_PING, NODE_STATS, NODE_SYNC, type NodeInfo, type PingResult } from '../ops/node-rpc.js';
import type { RateSample } from '../ops/signin-rate.js';
import { objectBody, type AdminRouteSpec } from './route.js';
import { onlyFields, reqBool } from './fields.js';

export interface ClusterApiDeps {
  cluster: ClusterRpc;
  store: DurableStore;
  timeoutMs: number;
  /** Names learnt from node.info answers, kept for members that are down now. */
  names: Map<number, string>;
}

export function clusterApi(deps: ClusterApiDeps): AdminRouteSpec[] {
  const { cluster, timeoutMs, names } = deps;
  const infos = async () => {
    const results = await cluster.broadcast<NodeInfo>(NODE_INFO, { v: NODE_OPS_VERSION }, { includeSelf: true, timeoutMs });
    const byIndex = new Map<number, NodeInfo>();
    for (const r of results) if (r.ok) { byIndex.set(r.index, r.value); names.set(r.index, r.value.name); }
    return byIndex;
  };
  return [
    {
      name: 'cluster.get', method: 'GET', path: /^\/admin\/api\/cluster\/?$/,
      handle: async ({ res }) => {
        const status = cluster.status();
        const info = await infos();
        const now = Date.now();
        sendJson(res, 200, {
          status: status.state,
          readOnly: status.readOnly,
          ...(status.readOnly ? { reason: `only ${status.reachableMembers} of ${status.configuredMembers} configured members can be reached` } : {}),
          nodes: status.members.map((m) => ({
            index: m.index, name: info.get(m.index)?.name ?? names.get(m.index) ?? null, address: m.address, role: m.role,
            health: m.self ? 'self' : m.state === 'alive' ? 'up' : 'down',
            configVersion: info.get(m.index)?.configVersion ?? null,
            lastHeardMs: m.self ? 0 : Math.max(0, now - m.lastHeard),
            syncEnabled: info.get(m.index)?.syncEnabled ?? null,
            components: info.get(m.index)?.components ?? null,
          })),
        });
      },
    },
    {
      name: 'cluster.connectivity', method: 'GET', path: /^\/admin\/api\/cluster\/connectivity\/?$/,
      handle: async ({ res }) => {
        const members = cluster.status().members.filter((m) => m.state !== 'left');
        // Each node pings the others within timeoutMs; the broadcast itself gets that plus slack.
        const results = await cluster.broadcast<{ results: PingResult[] }>(NODE_PING, { v: NODE_OPS_VERSION }, { includeSelf: true, timeoutMs: timeoutMs * 2 + 500 });
        const answered = new Map(results.map((r) => [r.index, r]));
        const pairs: Array<{ from: number; to: number; ok: boolean; ms?: number; error?: string }> = [];
        for (const from of members) {
          const r = answered.get(from.index);
          for (const to of members) {
            if (to.index === from.index) continue;
            if (!r || !r.ok) {
              pairs.push({ from: from.index, to: to.index, ok: false, error: r && !r.ok ? `node ${from.index} did not answer: ${r.error.message}` : `node ${from.index} is not reachable from the console` });
              continue;
            }
            const p = r.value.results.find((x) => x.to === to.index);
            pairs.push(p ? { from: from.index, ...p } : { from: from.index, to: to.index, ok: false, error: `node ${from.index} does not know node ${to.index}` });
          }
        }
        sendJson(res, 200, { pairs });
      },
    },
    {
      name: 'nodes.sync', method: 'POST', path: /^\/admin\/api\/nodes\/(\d{1,5})\/sync\/?$/,
      handle: async ({ res, params, actor, body }) => {
        const index = Number(params[0]);
        if (!cluster.status().members.some((m) => m.index === index)) throw notFound(`No member with index ${index}.`);
        const input = objectBody(await body());
        onlyFields(input, ['enabled']);
        const enabled = reqBool(input, 'enabled');
        if (!enabled && cluster.status().members.find((m) => m.index === index)?.role === 'console') {
          throw badRequest('The console holds no balanced traffic: its synchronisation cannot be switched off.', 'ADMIN_INVALID');
        }
        const results = await cluster.broadcast(NODE_SYNC, { v: NODE_OPS_VERSION, index, enabled }, { includeSelf: true, timeoutMs });
        await deps.store.audit?.append({ actor: actor.name, action: enabled ? 'node.sync_enabled' : 'node.sync_disabled', target: String(index) });
        sendJson(res, 200, {
          index, syncEnabled: enabled,
          nodes: results.sort((a, b) => a.index - b.index).map((r) => (r.ok ? { index: r.index, ok: true } : { index: r.index, ok: false, error: r.error.message })),
        });
      },
    },
    {
      name: 'stats', method: 'GET', path: /^\/admin\/api\/stats\/?$/,
      handle: async ({ res }) => {
        const results = await cluster.broadcast<{ index: number; name: string; samples: RateSample[] }>(NODE_STATS, { v: NODE_OPS_VERSION }, { includeSelf: true, timeoutMs });
        sendJson(res, 200, {
          nodes: results.filter((r) => r.ok).sort((a, b) => a.index - b.index)
            .map((r) => (r.ok ? { index: r.index, name: r.value.name, samples: r.value.samples } : undefined)),
        });
      },
    },
  ];
}
