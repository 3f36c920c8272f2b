// /console/service-providers — SAML service providers: the list, registering one from its metadata XML, removing
// one. Every change is staged.
import { html } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';
import { resultOf } from './context.js';
import { csrfField, disabledIf, emptyRow, when } from './view.js';

interface SpView {
  entityId: string; name?: string; assertionConsumerServices: Array<{ binding: string; location: string }>;
  nameIdFormat: string; attributes: string[]; requireSignedRequests: boolean; createdAt: string;
}

export const serviceProvidersPage: ConsolePage = {
  path: '/console/service-providers',
  title: 'Service providers',
  async render(ctx) {
    const answer = await ctx.api<{ serviceProviders: SpView[] }>('GET', '/admin/api/service-providers');
    if (answer.error) return html`<p class="notice error" role="alert">The service providers could not be read: ${answer.error.message}</p>`;
    const off = disabledIf(ctx.readOnly);
    const rows = answer.body.serviceProviders.map((sp) => html`<tr>
<td class="mono">${sp.entityId}</td><td>${sp.name ?? ''}</td>
<td class="mono">${sp.assertionConsumerServices.map((a) => html`${a.location}<br>`)}</td>
<td>${sp.nameIdFormat}</td><td>${sp.attributes.join(', ')}</td><td>${when(sp.createdAt)}</td>
<td><form method="post" action="/console/service-providers" class="inline">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="delete"><input type="hidden" name="entityId" value="${sp.entityId}">
<button type="submit" class="danger small"${off}>Delete</button></form></td></tr>`);
    return html`
<p class="muted">Changes are staged; engines apply them when you <a href="/console/publish">publish</a>. SAML must be switched on in <a href="/console/settings">Settings</a> for engines to serve it.</p>
<table id="service-providers">
<thead><tr><th>Entity ID</th><th>Name</th><th>Assertion consumer services</th><th>NameID</th><th>Attributes</th><th>Created</th><th></th></tr></thead>
<tbody>${rows.length ? rows : emptyRow(7, 'No service providers yet. Paste a service provider\'s metadata below to add one.')}</tbody>
</table>
<h2>Add a service provider</h2>
<form method="post" action="/console/service-providers" id="add-sp">${csrfField(ctx.csrf)}
<input type="hidden" name="action" value="create">
<fieldset${off}>
<label for="sp-name">Name (optional)</label>
<input type="text" id="sp-name" name="name" maxlength="200">
<label for="metadataXml">Metadata XML (the SP's EntityDescriptor)</label>
<textarea id="metadataXml" name="metadataXml" required></textarea>
</fieldset>
<button type="submit"${off}>Add (stage)</button>
</form>`;
  },
  async post(ctx, form) {
    const action = form.get('action');
    if (action === 'create') {
      const name = (form.get('name') ?? '').trim();
      const answer = await ctx.api<SpView>('POST', '/admin/api/service-providers', { metadataXml: form.get('metadataXml') ?? '', ...(name ? { name } : {}) });
      return resultOf(answer, answer.error ? '' : `Service provider ${answer.body.entityId} added and staged.`);
    }
    if (action === 'delete') {
      const entityId = form.get('entityId') ?? '';
      return resultOf(await ctx.api('DELETE', `/admin/api/service-providers/${encodeURIComponent(entityId)}`), `Service provider ${entityId} removed (staged).`);
    }
    return { notice: { kind: 'error', text: 'Unknown action.' }, status: 400 };
  },
};
