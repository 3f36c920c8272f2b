// /console/health — alerts (read-only cluster, members down, members on an old configuration version, paused
// state synchronisation, failed components of any node), the console's and every engine's components, and on
// request the connectivity check (every node pings every other one).
import { html, type SafeHtml } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { ago, emptyRow } from './view.js';
import type { ClusterView, ConfigSummaryView } from './cluster.js';

interface Pair { from: number; to: number; ok: boolean; ms?: number; error?: string }

/** One row per engine and component, as each engine reported them over the back channel just now. */
function engineComponents(nodes: ClusterView['nodes']): SafeHtml {
  const rows = nodes.filter((n) => n.role !== 'console').flatMap((n) => (n.components
    ? Object.entries(n.components).map(([name, c]) => html`<tr><td>${n.index}${n.name ? ` (${n.name})` : ''}</td><td>${name}</td><td class="${c.status === 'OK' ? 'ok' : 'failed'}">${c.status}</td><td>${c.critical ? 'yes' : 'no'}</td><td>${c.detail ?? ''}</td></tr>`)
    : [html`<tr><td>${n.index}${n.name ? ` (${n.name})` : ''}</td><td colspan="4" class="muted">not reachable: no report</td></tr>`]));
  return html`<table id="engine-components"><thead><tr><th>Engine</th><th>Component</th><th>Status</th><th>Critical</th><th>Detail</th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(5, 'No engine has joined yet.')}</tbody></table>`;
}

export const healthPage: ConsolePage = {
  path: '/console/health',
  title: 'Health and alerts',
  async render(ctx) {
    const [cluster, config, own] = await Promise.all([
      ctx.api<ClusterView>('GET', '/admin/api/cluster'), ctx.api<ConfigSummaryView>('GET', '/admin/api/config'),
      ctx.ownStatus().catch(() => undefined),
    ]);
    const alerts: SafeHtml[] = [];
    if (cluster.error) alerts.push(html`<li class="down">The cluster could not be read: ${cluster.error.message}</li>`);
    const published = config.error ? undefined : config.body.published;
    if (!cluster.error) {
      const c = cluster.body;
      if (c.readOnly) alerts.push(html`<li class="down">The cluster is read-only${c.reason ? `: ${c.reason}` : ''}. Configuration changes, password changes and other cluster-wide writes are refused until a majority of members is back.</li>`);
      for (const n of c.nodes) {
        const label = `Node ${n.index}${n.name ? ` (${n.name})` : ''}`;
        if (n.health !== 'up' && n.health !== 'self') alerts.push(html`<li class="down">${label} is ${n.health}: last heard ${ago(n.lastHeardMs)}.</li>`);
        else if (published && n.role !== 'console' && n.configVersion !== null && n.configVersion !== published.version) {
          alerts.push(html`<li class="stale">${label} runs configuration version ${n.configVersion}; version ${published.version} is published.</li>`);
        }
        if (n.syncEnabled === false) alerts.push(html`<li class="stale">${label} has its state synchronisation paused (maintenance).</li>`);
        if (n.role !== 'console') {
          for (const [name, c] of Object.entries(n.components ?? {})) {
            if (c.status !== 'OK') alerts.push(html`<li class="down">${label}: component ${name} failed${c.critical ? ' (critical: out of the balancer\'s pool)' : ''}: ${c.detail ?? 'no detail'}.</li>`);
          }
        }
      }
    }
    const components = Object.entries(own?.components ?? {});
    for (const [name, s] of components) if (s.status !== 'OK') alerts.push(html`<li class="down">Console component ${name} failed: ${s.detail ?? 'no detail'}.</li>`);

    let connectivity: SafeHtml = html`<p><a href="/console/health?check=1" id="run-check">Run the connectivity check</a> <span class="muted">(every node pings every other node over the back channel)</span></p>`;
    if (ctx.url.searchParams.get('check') === '1') {
      const answer = await ctx.api<{ pairs: Pair[] }>('GET', '/admin/api/cluster/connectivity');
      connectivity = answer.error
        ? html`<p class="notice error" role="alert">The connectivity check failed: ${answer.error.message}</p>`
        : html`<table id="connectivity"><thead><tr><th>From</th><th>To</th><th>Result</th><th>Round trip</th></tr></thead><tbody>
${answer.body.pairs.length ? answer.body.pairs.map((p) => html`<tr><td>${p.from}</td><td>${p.to}</td><td>${p.ok ? html`<span class="ok">ok</span>` : html`<span class="failed">${p.error ?? 'failed'}</span>`}</td><td>${p.ms !== undefined ? `${p.ms} ms` : ''}</td></tr>`) : emptyRow(4, 'There is no other member to check.')}
</tbody></table><p><a href="/console/health?check=1">Check again</a></p>`;
    }
    return html`
<h2>Alerts</h2>
${alerts.length ? html`<ul class="alerts" id="alerts">${alerts}</ul>` : html`<p class="ok" id="alerts">No alerts: every member is up and runs the published configuration.</p>`}
<h2>Console node components</h2>
<table id="components"><thead><tr><th>Component</th><th>Status</th><th>Critical</th><th>Detail</th></tr></thead>
<tbody>${components.length ? components.map(([name, s]) => html`<tr><td>${name}</td><td class="${s.status === 'OK' ? 'ok' : 'failed'}">${s.status}</td><td>${s.critical ? 'yes' : 'no'}</td><td>${s.detail ?? ''}</td></tr>`) : emptyRow(4, 'No components registered.')}</tbody></table>
<h2>Engine components</h2>
${engineComponents(cluster.error ? [] : cluster.body.nodes)}
<h2>Connectivity</h2>
${connectivity}`;
  },
};
