// /console/sessions — live SSO sessions across the cluster: search by user, page through, end one session or all
// of a user's sessions. Ending a session revokes it on every node and notifies the applications it was used with.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { resultOf } from './context.js';
import { csrfField, emptyRow, when } from './view.js';

interface SessionView {
  id: string; user: string | null; node: number | null; source: string | null; started: string | null;
  lastSeen: string | null; expires: string; clients: Array<{ protocol: string; clientId: string }>;
}

const PAGE = 50;

export const sessionsPage: ConsolePage = {
  path: '/console/sessions',
  title: 'Sessions',
  async render(ctx) {
    const user = (ctx.url.searchParams.get('user') ?? '').trim().slice(0, 256);
    const offset = /^\d{1,9}$/.test(ctx.url.searchParams.get('offset') ?? '') ? Number(ctx.url.searchParams.get('offset')) : 0;
    const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE), ...(user ? { user } : {}) });
    const answer = await ctx.api<{ total: number; items: SessionView[] }>('GET', `/admin/api/sessions?${query}`);
    const search = html`<form method="get" action="/console/sessions" role="search">
<label for="user">User</label>
<input type="text" id="user" name="user" value="${user}" autocapitalize="none" spellcheck="false" placeholder="username">
<button type="submit">Search</button> ${user ? html`<a href="/console/sessions">Show everyone</a>` : ''}
</form>`;
    if (answer.error) {
      return html`${search}<p class="notice ${answer.status === 404 ? 'ok' : 'error'}" role="status">${answer.status === 404 ? `${answer.error.message} No sessions to show.` : `The sessions could not be read: ${answer.error.message}`}</p>`;
    }
    const back = `/console/sessions${user ? `?user=${encodeURIComponent(user)}` : ''}`;
    const rows = answer.body.items.map((s) => html`<tr class="session" data-session="${s.id}" data-user="${s.user ?? ''}">
<td>${s.user ?? html`<span class="muted">unknown</span>`}</td><td>${s.node ?? ''}</td><td class="mono">${s.source ?? ''}</td>
<td>${when(s.started)}</td><td>${when(s.lastSeen)}</td><td>${when(s.expires)}</td>
<td>${s.clients.length ? s.clients.map((c) => html`<span class="mono">${c.clientId}</span> <span class="muted">(${c.protocol})</span><br>`) : html`<span class="muted">none</span>`}</td>
<td><form method="post" action="${back}" class="inline">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="kill"><input type="hidden" name="id" value="${s.id}">
<button type="submit" class="danger small">Kill</button></form></td></tr>`);
    const { total } = answer.body;
    const more = offset + PAGE < total;
    return html`${search}
<p class="muted">${total} session record${total === 1 ? '' : 's'}${user ? html` of <strong>${user}</strong>` : ''}; showing live ones ${offset + 1}–${Math.min(offset + PAGE, total)}.</p>
<table id="sessions">
<thead><tr><th>User</th><th>Node</th><th>Source</th><th>Signed in</th><th>Last seen</th><th>Expires</th><th>Applications</th><th></th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(8, user ? `${user} has no live sessions.` : 'Nobody is signed in right now.')}</tbody>
</table>
${offset > 0 ? html`<a href="/console/sessions?${new URLSearchParams({ offset: String(Math.max(0, offset - PAGE)), ...(user ? { user } : {}) })}">Previous</a> ` : ''}
${more ? html`<a href="/console/sessions?${new URLSearchParams({ offset: String(offset + PAGE), ...(user ? { user } : {}) })}">Next</a>` : ''}
${user && rows.length ? html`<form method="post" action="${back}">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="kill-user"><input type="hidden" name="user" value="${user}">
<button type="submit" class="danger">Kill all sessions of ${user}</button></form>` : ''}`;
  },
  async post(ctx, form) {
    if (form.get('action') === 'kill') {
      const id = form.get('id') ?? '';
      if (!/^[A-Za-z0-9_.-]{10,80}$/.test(id)) return { notice: { kind: 'error', text: 'No such live session.' }, status: 404 };
      const answer = await ctx.api<{ clientsNotified: number }>('DELETE', `/admin/api/sessions/${id}`);
      return resultOf(answer, answer.error ? '' : `Session ended on every node; ${answer.body.clientsNotified} application${answer.body.clientsNotified === 1 ? '' : 's'} notified.`);
    }
    if (form.get('action') === 'kill-user') {
      const user = form.get('user') ?? '';
      const answer = await ctx.api<{ killed: number }>('DELETE', `/admin/api/users/${encodeURIComponent(user)}/sessions`);
      return resultOf(answer, answer.error ? '' : `Ended ${answer.body.killed} session${answer.body.killed === 1 ? '' : 's'} of ${user}.`);
    }
    return { notice: { kind: 'error', text: 'Unknown action.' }, status: 400 };
  },
};
