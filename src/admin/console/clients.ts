// /console/clients — OIDC clients: the list, registering one (its secret is shown once), editing its name and
// redirect URIs, removing it. Every change is staged.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { resultOf } from './context.js';
import { csrfField, disabledIf, emptyRow, when } from './view.js';

interface ClientView {
  clientId: string; name?: string; public: boolean; redirectUris: string[]; postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string; grantTypes: string[]; createdAt: string;
}

const lines = (text: string | undefined) => (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

export const clientsPage: ConsolePage = {
  path: '/console/clients',
  title: 'Clients',
  async render(ctx) {
    const answer = await ctx.api<{ clients: ClientView[] }>('GET', '/admin/api/clients');
    if (answer.error) return html`<p class="notice error" role="alert">The clients could not be read: ${answer.error.message}</p>`;
    const off = disabledIf(ctx.readOnly);
    const clients = answer.body.clients;
    const editing = clients.find((c) => c.clientId === ctx.url.searchParams.get('edit'));
    const rows = clients.map((c) => html`<tr id="client-${c.clientId}">
<td class="mono">${c.clientId}</td><td>${c.name ?? ''}</td><td>${c.public ? 'public (PKCE)' : 'confidential'}</td>
<td class="mono">${c.redirectUris.map((u) => html`${u}<br>`)}</td><td>${when(c.createdAt)}</td>
<td><a href="/console/clients?edit=${encodeURIComponent(c.clientId)}">Edit</a>
<form method="post" action="/console/clients" class="inline">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="delete"><input type="hidden" name="clientId" value="${c.clientId}">
<button type="submit" class="danger small"${off}>Delete</button></form></td></tr>`);
    return html`
<p class="muted">Changes are staged; engines apply them when you <a href="/console/publish">publish</a>.</p>
<table id="clients">
<thead><tr><th>Client id</th><th>Name</th><th>Type</th><th>Redirect URIs</th><th>Created</th><th></th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(6, 'No clients yet. Register your first application below.')}</tbody>
</table>
${editing ? html`
<h2>Edit ${editing.name ?? editing.clientId}</h2>
<form method="post" action="/console/clients" id="edit-client">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="update"><input type="hidden" name="clientId" value="${editing.clientId}">
<fieldset${off}>
<label for="edit-name">Name</label>
<input type="text" id="edit-name" name="name" maxlength="200" value="${editing.name ?? ''}">
<label for="edit-redirectUris">Redirect URIs (one per line, matched exactly)</label>
<textarea id="edit-redirectUris" name="redirectUris">${editing.redirectUris.join('\n')}</textarea>
<label for="edit-postLogout">Post-logout redirect URIs (one per line)</label>
<textarea id="edit-postLogout" name="postLogoutRedirectUris">${editing.postLogoutRedirectUris.join('\n')}</textarea>
</fieldset>
<button type="submit"${off}>Save (stage)</button> <a href="/console/clients">Cancel</a>
</form>` : ''}
<h2>Register a client</h2>
<form method="post" action="/console/clients" id="add-client">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="create">
<fieldset${off}>
<label for="name">Name</label>
<input type="text" id="name" name="name" maxlength="200" required>
<label for="clientId">Client id (empty = generated)</label>
<input type="text" id="clientId" name="clientId" maxlength="128">
<label for="redirectUris">Redirect URIs (one per line)</label>
<textarea id="redirectUris" name="redirectUris"></textarea>
<label class="check"><input type="checkbox" name="public" value="on">Public client (no secret; PKCE required)</label>
</fieldset>
<button type="submit"${off}>Register (stage)</button>
</form>`;
  },
  async post(ctx, form) {
    const action = form.get('action');
    const clientId = form.get('clientId') ?? '';
    if (action === 'create') {
      const answer = await ctx.api<{ client: ClientView; secret?: string }>('POST', '/admin/api/clients', {
        name: form.get('name') ?? '', redirectUris: lines(form.get('redirectUris')), public: form.get('public') === 'on',
        ...(clientId.trim() ? { clientId: clientId.trim() } : {}),
      });
      if (answer.error) return resultOf(answer, '');
      const c = answer.body.client;
      return {
        notice: { kind: 'ok', text: `Client ${c.clientId} registered and staged.` },
        ...(answer.body.secret ? { extra: html`<p class="notice ok" id="client-secret">Client secret of <code>${c.clientId}</code>, shown only now — copy it to the application: <code>${answer.body.secret}</code></p>` } : {}),
      };
    }
    if (action === 'update') {
      const answer = await ctx.api('PUT', `/admin/api/clients/${encodeURIComponent(clientId)}`, {
        name: form.get('name') ?? '', redirectUris: lines(form.get('redirectUris')), postLogoutRedirectUris: lines(form.get('postLogoutRedirectUris')),
      });
      return resultOf(answer, `Client ${clientId} updated and staged.`);
    }
    if (action === 'delete') {
      return resultOf(await ctx.api('DELETE', `/admin/api/clients/${encodeURIComponent(clientId)}`), `Client ${clientId} removed (staged).`);
    }
    return { notice: { kind: 'error', text: 'Unknown action.' }, status: 400 };
  },
};
