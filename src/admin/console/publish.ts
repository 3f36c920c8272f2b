// /console/publish — what is staged against the published version (the diff), the Publish button and its result
// per node, and the version history.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { csrfField, disabledIf, emptyRow, when } from './view.js';
import type { ConfigSummaryView } from './cluster.js';

interface Change { kind: string; id: string; change: string; fields?: string[] }
interface VersionRow { version: number; publishedAt: string | null; publishedBy: string; digest: string }

const KIND: Record<string, string> = { client: 'Client', serviceProvider: 'Service provider', key: 'Key', setting: 'Settings' };

export const publishPage: ConsolePage = {
  path: '/console/publish',
  title: 'Publish configuration',
  async render(ctx) {
    const [summary, diff, versions] = await Promise.all([
      ctx.api<ConfigSummaryView>('GET', '/admin/api/config'),
      ctx.api<{ changes: Change[] }>('GET', '/admin/api/config/diff'),
      ctx.api<{ versions: VersionRow[] }>('GET', '/admin/api/config/versions?limit=10'),
    ]);
    if (summary.error || diff.error) return html`<p class="notice error" role="alert">The configuration could not be read: ${(summary.error ?? diff.error)!.message}</p>`;
    const s = summary.body;
    const changes = diff.body.changes;
    const rows = changes.map((c) => html`<tr><td>${KIND[c.kind] ?? c.kind}</td><td class="mono">${c.id}</td><td>${c.change}</td><td>${c.fields?.join(', ') ?? ''}</td></tr>`);
    const history = (versions.error ? [] : versions.body.versions).map((v) => html`<tr><td>${v.version}</td><td>${when(v.publishedAt)}</td><td>${v.publishedBy}</td><td class="mono">${v.digest.slice(0, 16)}</td></tr>`);
    return html`
<p>Changes made on the other pages are <strong>staged</strong>: engines keep running the published version until you publish.
${s.staged.modifiedAt ? html`Last change ${when(s.staged.modifiedAt)} by ${s.staged.modifiedBy ?? 'unknown'}.` : ''}
Published: ${s.published ? html`<strong>version ${s.published.version}</strong>, ${when(s.published.publishedAt)} by ${s.published.publishedBy}.` : html`<strong>nothing yet</strong>.`}</p>
<h2>Staged changes</h2>
<table id="diff">
<thead><tr><th>What</th><th>Id</th><th>Change</th><th>Fields</th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(4, s.published ? `Nothing staged: the staged configuration is version ${s.published.version}.` : 'Nothing staged.')}</tbody>
</table>
<form method="post" action="/console/publish">${csrfField(ctx.csrf)}
<button type="submit" id="publish"${disabledIf(ctx.readOnly)}>${changes.length ? `Publish ${changes.length} change${changes.length === 1 ? '' : 's'}` : 'Publish again (push the current version to every node)'}</button>
</form>
${ctx.readOnly ? html`<p class="muted">Publishing is unavailable while the cluster is read-only.</p>` : ''}
<h2>Recent versions</h2>
<table id="versions">
<thead><tr><th>Version</th><th>Published</th><th>By</th><th>Digest</th></tr></thead>
<tbody>${history.length ? history : emptyRow(4, 'No version has been published yet.')}</tbody>
</table>`;
  },
  async post(ctx) {
    const answer = await ctx.api<{ version: number; changed: boolean; nodes: Array<{ index: number; ok: boolean; version?: number; error?: string }> }>('POST', '/admin/api/config/publish');
    if (answer.error) return { notice: { kind: 'error', text: answer.error.message }, status: answer.status };
    const r = answer.body;
    const failed = r.nodes.filter((n) => !n.ok);
    const rows = r.nodes.map((n) => html`<tr id="result-${n.index}"><td>${n.index}</td><td>${n.ok ? html`<span class="ok">switched</span>` : html`<span class="failed">failed</span>`}</td><td>${n.version ?? ''}</td><td>${n.error ?? ''}</td></tr>`);
    return {
      notice: failed.length
        ? { kind: 'error', text: `Version ${r.version} published, but ${failed.length} node${failed.length === 1 ? '' : 's'} did not switch (they get it when they rejoin or at the next publish).` }
        : { kind: 'ok', text: `${r.changed ? 'Published' : 'Pushed'} version ${r.version}${r.nodes.length ? ` to ${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}` : ''}.` },
      extra: html`<table id="publish-result"><caption class="muted">Result per node</caption>
<thead><tr><th>Node</th><th>Result</th><th>Version</th><th>Error</th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(4, 'No other node is running.')}</tbody></table>`,
    };
  },
};
