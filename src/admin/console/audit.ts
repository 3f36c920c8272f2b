// /console/audit — the audit log, newest first, paged backwards.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { emptyRow, when } from './view.js';

interface Entry { id: number; at: string | null; actor: string; action: string; target?: string; details?: Record<string, unknown> }

const PAGE = 100;

export const auditPage: ConsolePage = {
  path: '/console/audit',
  title: 'Audit log',
  async render(ctx) {
    const before = /^\d{1,15}$/.test(ctx.url.searchParams.get('before') ?? '') ? ctx.url.searchParams.get('before')! : undefined;
    const answer = await ctx.api<{ entries: Entry[] }>('GET', `/admin/api/audit?limit=${PAGE}${before ? `&before=${before}` : ''}`);
    if (answer.error) return html`<p class="notice error" role="alert">The audit log could not be read: ${answer.error.message}</p>`;
    const entries = answer.body.entries;
    const rows = entries.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td class="mono">${e.action}</td><td class="mono">${e.target ?? ''}</td>
<td class="mono">${e.details ? JSON.stringify(e.details).slice(0, 500) : ''}</td></tr>`);
    const last = entries[entries.length - 1];
    return html`<table id="audit"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Details</th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(5, before ? 'No older entries.' : 'Nothing has been recorded yet.')}</tbody></table>
<p>${before ? html`<a href="/console/audit">Newest</a> ` : ''}${entries.length === PAGE && last ? html`<a href="/console/audit?before=${last.id}">Older entries</a>` : ''}</p>`;
  },
};
