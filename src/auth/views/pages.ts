// Server-rendered pages: sign-in, password change, consent, logout, errors. Plain forms, no JavaScript needed.
import { html, trusted, type SafeHtml } from './html.js';
import { layout, type Branding } from './layout.js';

function errorBox(message: string | undefined): SafeHtml {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html``;
}

export interface LoginView {
  action: string;
  csrf: string;
  clientName?: string;
  username?: string;
  error?: string;
  branding?: Branding;
}

export function loginPage(v: LoginView): string {
  const described = v.error ? 'form-error' : undefined;
  return layout('Sign in', html`
${v.clientName ? html`<p class="muted">to continue to <strong>${v.clientName}</strong></p>` : ''}
${errorBox(v.error)}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${v.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus${described ? trusted(` aria-describedby="${described}"`) : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`, v.branding);
}

export interface ChangePasswordView {
  action: string;
  csrf: string;
  error?: string;
  branding?: Branding;
}

export function changePasswordPage(v: ChangePasswordView): string {
  return layout('Choose a new password', html`
<p class="muted">Your password was set for one use only. Choose a new one to continue.</p>
${errorBox(v.error)}
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="12" required>
<label for="confirm_password">Repeat the new password</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" minlength="12" required>
<button type="submit">Save and continue</button>
</form>`, v.branding);
}

export interface ConsentView {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  scopes: string[];
  claims: string[];
  branding?: Branding;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'Your name and username',
  email: 'Your email address',
  groups: 'The groups you belong to',
  offline_access: 'Stay signed in to the application when you are away',
};

export function consentPage(v: ConsentView): string {
  const items = v.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`);
  return layout('Allow access', html`
<p><strong>${v.clientName}</strong> asks to:</p>
<ul class="scopes">${items}</ul>
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit">Allow</button>
</form>
<form method="post" action="${v.abortAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit" class="secondary">Deny</button>
</form>`, v.branding);
}

export interface LogoutView {
  /** oidc-provider's own form (with its xsrf token) that the buttons submit. */
  providerForm: string;
  clientName?: string;
  /** Offered when the user is signed in in more than one browser and the option is on. */
  logoutAll?: { token: string; sessions: number };
  branding?: Branding;
}

export function logoutPage(v: LogoutView): string {
  return layout('Sign out', html`
${trusted(v.providerForm)}
<p>${v.clientName ? html`<strong>${v.clientName}</strong> asks you to sign out.` : 'Do you want to sign out?'}</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
${v.logoutAll ? html`<form method="post" action="/logout/all">
<input type="hidden" name="token" value="${v.logoutAll.token}">
<button type="submit" class="secondary">Sign out of all my sessions (${v.logoutAll.sessions})</button>
</form>` : ''}
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`, v.branding);
}

export function loggedOutEverywherePage(count: number, branding?: Branding): string {
  return layout('Signed out', html`<p>You have signed out of all ${count} of your sessions. You can close this window.</p>`, branding);
}

export function loggedOutPage(branding?: Branding): string {
  return layout('Signed out', html`<p>You have signed out. You can close this window.</p>`, branding);
}

export function errorPage(v: { status: number; message: string; branding?: Branding }): string {
  const title = v.status >= 500 ? 'Something went wrong' : 'We could not complete that request';
  return layout(title, html`<p class="error" role="alert">${v.message}</p>
<p class="muted">Error ${v.status}. Return to the application and try again.</p>`, v.branding);
}
