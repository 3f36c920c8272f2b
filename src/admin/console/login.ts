// The console's sign-in page and its refusal page (an account without the admin role). No navigation: nobody is
// signed in yet.
import { documentStart, html, type SafeHtml } from '../../auth/views/html.js';

function bare(title: string, body: SafeHtml): string {
  return html`${documentStart(`${title} · Cohort console`, ['/console/console.css'])}<main class="login" aria-labelledby="page-title">
<p class="muted">Cohort console</p>
<h1 id="page-title">${title}</h1>
${body}
</main>
</body>
</html>
`.value;
}

export interface ConsoleLoginView {
  csrf: string;
  next: string;
  username?: string;
  error?: string;
  info?: string;
}

export function loginPage(v: ConsoleLoginView): string {
  return bare('Sign in to the console', html`
${v.info ? html`<p class="notice ok" role="status">${v.info}</p>` : ''}
${v.error ? html`<p class="notice error" role="alert" id="form-error">${v.error}</p>` : ''}
<p class="muted">Administrators only: sign in with an account that has the admin role.</p>
<form method="post" action="/console/login">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="next" value="${v.next}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${v.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`);
}

export function refusedPage(message: string): string {
  return bare('Access refused', html`<p class="notice error" role="alert" id="refused">${message}</p>
<p><a href="/console/login">Sign in with another account</a></p>`);
}
