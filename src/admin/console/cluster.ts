// /console/ — the cluster: status, the published configuration, and every member with its index, name, address,
// role, health, the configuration version it runs and when it was last heard from. Engines' state synchronisation
// can be paused for maintenance and resumed from here.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { resultOf } from './context.js';
import { ago, csrfField, emptyRow, when } from './view.js';

export interface ClusterNodeView {
  index: number; name: string | null; address?: string; role: string; health: string;
  configVersion: number | null; lastHeardMs: number; syncEnabled: boolean | null;
  components?: Record<string, { status: string; critical: boolean; detail?: string }> | null;
}
export interface ClusterView { status: string; readOnly: boolean; reason?: string; nodes: ClusterNodeView[] }
export interface ConfigSummaryView {
  staged: { modifiedAt: string | null; modifiedBy: string | null };
  published: { version: number; publishedAt: string | null; publishedBy: string; digest: string } | null;
  nodes: Array<{ index: number; name: string | null; version: number; replicatedAt: string | null }>;
}

export const clusterPage: ConsolePage = {
  path: '/console/',
  title: 'Cluster',
  async render(ctx) {
    const [cluster, config] = await Promise.all([ctx.api<ClusterView>('GET', '/admin/api/cluster'), ctx.api<ConfigSummaryView>('GET', '/admin/api/config')]);
    if (cluster.error) return html`<p class="notice error" role="alert">The cluster could not be read: ${cluster.error.message}</p>`;
    const c = cluster.body;
    const published = config.error ? undefined : config.body.published;
    const replicated = new Map((config.error ? [] : config.body.nodes).map((n) => [n.index, n]));
    const rows = c.nodes.map((n) => {
      const behind = published && n.role !== 'console' && n.configVersion !== null && n.configVersion !== published.version;
      const health = n.health === 'self' ? html`<span class="up">up (this node)</span>` : n.health === 'up' ? html`<span class="up">up</span>` : html`<span class="down">${n.health}</span>`;
      const version = n.configVersion === null ? html`<span class="muted">unknown</span>`
        : html`<span class="${behind ? 'stale' : ''}">${n.configVersion}</span>${behind ? html` <span class="stale">(behind: ${published!.version} is published)</span>` : ''}`;
      const sync = n.role === 'console' || n.syncEnabled === null ? html`<span class="muted">—</span>` : html`
<form method="post" action="/console/" class="inline">${csrfField(ctx.csrf)}
<input type="hidden" name="index" value="${n.index}"><input type="hidden" name="enabled" value="${n.syncEnabled ? 'false' : 'true'}">
${n.syncEnabled ? 'on' : html`<strong class="stale">paused</strong>`} <button type="submit" class="small">${n.syncEnabled ? 'Pause' : 'Resume'}</button></form>`;
      const rep = replicated.get(n.index);
      return html`<tr id="node-${n.index}" data-index="${n.index}">
<td>${n.index}</td><td>${n.name ?? html`<span class="muted">unknown</span>`}</td><td class="mono">${n.address ?? ''}</td><td>${n.role}</td>
<td class="health">${health}</td><td class="config-version" data-version="${n.configVersion ?? ''}">${version}</td>
<td>${n.health === 'self' ? html`<span class="muted">—</span>` : ago(n.lastHeardMs)}</td>
<td>${rep ? when(rep.replicatedAt) : html`<span class="muted">never</span>`}</td><td>${sync}</td></tr>`;
    });
    return html`
<p>Cluster status: <strong id="cluster-status">${c.status}</strong>${c.readOnly ? html` — <span class="down">read-only</span>` : ''}.
Published configuration: ${published ? html`<strong id="published-version">version ${published.version}</strong>, ${when(published.publishedAt)} by ${published.publishedBy}` : html`<strong id="published-version">none yet</strong> (engines run their built-in defaults until the first publish)`}.
<a href="/console/publish">Review staged changes</a></p>
<h2>Members</h2>
<table id="members">
<thead><tr><th>Index</th><th>Name</th><th>Address</th><th>Role</th><th>Health</th><th>Config version running</th><th>Last heard</th><th>Last replicated</th><th>State sync</th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(9, 'No members are known yet.')}</tbody>
</table>
<p class="muted">Pausing an engine's state synchronisation takes it out of state placement and out of the balancer's pool for maintenance; resuming copies what it missed before it serves again.</p>`;
  },
  async post(ctx, form) {
    const index = form.get('index') ?? '';
    const enabled = form.get('enabled') === 'true';
    if (!/^\d{1,5}$/.test(index)) return { notice: { kind: 'error', text: 'No such member.' }, status: 400 };
    const answer = await ctx.api('POST', `/admin/api/nodes/${index}/sync`, { enabled });
    return resultOf(answer, enabled ? `State synchronisation of node ${index} resumed.` : `State synchronisation of node ${index} paused for maintenance.`);
  },
};
