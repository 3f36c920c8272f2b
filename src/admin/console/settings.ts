// /console/settings — the runtime settings: session policy, enabled protocols, branding. Saving stages them;
// engines get them at the next publish.
import { html } from '../../auth/views/html.js';
import type { RuntimeSettings } from '../../runtime/types.js';
import type { ConsolePage } from './context.js';
import { resultOf } from './context.js';
import { csrfField, disabledIf } from './view.js';

const checked = (on: boolean) => (on ? html` checked` : html``);

export const settingsPage: ConsolePage = {
  path: '/console/settings',
  title: 'Settings',
  async render(ctx) {
    const answer = await ctx.api<RuntimeSettings>('GET', '/admin/api/settings');
    if (answer.error) return html`<p class="notice error" role="alert">The settings could not be read: ${answer.error.message}</p>`;
    const s = answer.body;
    const off = disabledIf(ctx.readOnly);
    return html`
<p class="muted">Saving stages the settings; engines apply them when you <a href="/console/publish">publish</a>.</p>
<form method="post" action="/console/settings" id="settings-form">${csrfField(ctx.csrf)}
<fieldset${off}><legend>Sessions</legend>
<label for="maxPerUser">Concurrent sessions per user (0 = unlimited)</label>
<input type="number" id="maxPerUser" name="maxPerUser" min="0" max="10000" value="${s.session.maxPerUser}" required>
<label for="limitAction">When a user reaches the limit</label>
<select id="limitAction" name="limitAction">
<option value="refuse"${s.session.limitAction === 'refuse' ? html` selected` : ''}>Refuse the new sign-in</option>
<option value="delete-oldest"${s.session.limitAction === 'delete-oldest' ? html` selected` : ''}>End the oldest session</option>
</select>
<label class="check"><input type="checkbox" name="allowLogoutAll" value="on"${checked(s.session.allowLogoutAll)}>Offer "sign out of all my sessions" on the logout page</label>
</fieldset>
<fieldset${off}><legend>Protocols</legend>
<label class="check"><input type="checkbox" name="oidc" value="on"${checked(s.protocols.oidc)}>OpenID Connect / OAuth 2</label>
<label class="check"><input type="checkbox" name="saml" value="on"${checked(s.protocols.saml)}>SAML 2.0</label>
</fieldset>
<fieldset${off}><legend>Branding</legend>
<label for="productName">Product name (shown on every sign-in page)</label>
<input type="text" id="productName" name="productName" maxlength="64" value="${s.branding.productName}" required>
<label for="accentColor">Accent colour (#rrggbb, empty = built-in)</label>
<input type="text" id="accentColor" name="accentColor" maxlength="7" pattern="#[0-9a-fA-F]{6}" value="${s.branding.accentColor}">
<label for="branding-notice">Notice line (maintenance window, support contact; empty = none)</label>
<input type="text" id="branding-notice" name="notice" maxlength="500" value="${s.branding.notice}">
</fieldset>
<button type="submit" id="save"${off}>Save (stage)</button>
</form>`;
  },
  async post(ctx, form) {
    const max = form.get('maxPerUser') ?? '';
    if (!/^\d{1,5}$/.test(max)) return { notice: { kind: 'error', text: 'session.maxPerUser: must be an integer from 0 to 10000' }, status: 400 };
    const on = (name: string) => form.get(name) === 'on';
    const answer = await ctx.api('PUT', '/admin/api/settings', {
      session: { maxPerUser: Number(max), limitAction: form.get('limitAction') ?? '', allowLogoutAll: on('allowLogoutAll') },
      protocols: { oidc: on('oidc'), saml: on('saml') },
      branding: { productName: form.get('productName') ?? '', accentColor: form.get('accentColor') ?? '', notice: form.get('notice') ?? '' },
    });
    return resultOf(answer, 'Settings saved and staged. Publish to apply them on the engines.');
  },
};
