// The console's page chrome and shared bits: navigation, the read-only banner, result notices, tables, times.
// Pages are built only with the escaping html template; no scripts (the CSP allows none), styles from
// /console/console.css.
import { documentStart, html, type SafeHtml } from '../../auth/views/html.js';

export const NAV: Array<[path: string, label: string]> = [
  ['/console/', 'Cluster'],
  ['/console/publish', 'Publish'],
  ['/console/settings', 'Settings'],
  ['/console/clients', 'Clients'],
  ['/console/service-providers', 'Service providers'],
  ['/console/sessions', 'Sessions'],
  ['/console/health', 'Health'],
  ['/console/stats', 'Statistics'],
  ['/console/audit', 'Audit log'],
];

export interface Notice { kind: 'ok' | 'error'; text: string }

export interface PageFrame {
  title: string;
  path: string;
  username: string;
  csrf: string;
  /** Why configuration writes are refused now (the cluster is read-only), or undefined. */
  readOnly?: string | undefined;
  notice?: Notice | undefined;
}

export function noticeBox(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  return n.kind === 'error'
    ? html`<p class="notice error" role="alert" id="notice">${n.text}</p>`
    : html`<p class="notice ok" role="status" id="notice">${n.text}</p>`;
}

export function consolePage(frame: PageFrame, body: SafeHtml): string {
  const nav = NAV.map(([path, label]) => html`<li><a href="${path}"${path === frame.path ? html` aria-current="page"` : ''}>${label}</a></li>`);
  return html`${documentStart(`${frame.title} · Cohort console`, ['/console/console.css'], html`<meta name="cohort-csrf" content="${frame.csrf}">
`)}<header class="top">
<p class="product">Cohort console</p>
<nav aria-label="Console"><ul>${nav}</ul></nav>
<form method="post" action="/console/logout" class="signout">
<span class="muted">Signed in as <strong id="signed-in-as">${frame.username}</strong></span>
<input type="hidden" name="csrf" value="${frame.csrf}">
<button type="submit" class="link">Sign out</button>
</form>
</header>
<main aria-labelledby="page-title">
${frame.readOnly ? html`<p class="banner" role="alert" id="read-only">Read-only: ${frame.readOnly}</p>` : ''}
<h1 id="page-title">${frame.title}</h1>
${noticeBox(frame.notice)}
${body}
</main>
</body>
</html>
`.value;
}

/** A hidden CSRF field for a form. */
export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

/** `disabled` on a form's controls while writes are refused. */
export const disabledIf = (readOnly: string | undefined) => (readOnly ? html` disabled` : html``);

export function emptyRow(colspan: number, text: string): SafeHtml {
  return html`<tr><td colspan="${colspan}" class="empty">${text}</td></tr>`;
}

export function when(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function ago(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'unknown';
  if (ms < 1000) return 'just now';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min ago`;
  return `${Math.round(m / 60)} h ago`;
}

export const STYLES = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #f4f5f7; --card: #fff; --accent: #2f5bd3;
  --danger: #b42318; --ok: #067647; --warn: #b54708; --border: #d5d9e0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #a3abba; --bg: #14171d; --card: #1d2129;
  --accent: #7b9cff; --danger: #ff8a80; --ok: #6ce9a6; --warn: #fdb022; --border: #353b47; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1.5rem;
  background: var(--card); border-bottom: 1px solid var(--border); }
.product { margin: 0; font-weight: 700; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
nav a { color: var(--accent); text-decoration: none; }
nav a[aria-current=page] { font-weight: 700; text-decoration: underline; }
.signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--border); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); }
td.empty { color: var(--muted); font-style: italic; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; word-break: break-all; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=password], input[type=number], select, textarea { width: 100%; max-width: 36rem; padding: .45rem .6rem;
  font: inherit; color: inherit; background: var(--card); border: 1px solid var(--border); border-radius: 6px; }
textarea { min-height: 8rem; font-family: ui-monospace, monospace; font-size: .85rem; }
input[type=checkbox] { margin-right: .4rem; }
label.check { font-weight: 400; }
fieldset { border: 1px solid var(--border); border-radius: 8px; margin: 1rem 0; padding: .5rem 1rem 1rem; background: var(--card); }
legend { font-weight: 700; padding: 0 .3rem; }
button { padding: .45rem .9rem; font: inherit; font-weight: 600; border: 0; border-radius: 6px; background: var(--accent);
  color: #fff; cursor: pointer; margin-top: .75rem; }
button.danger { background: var(--danger); margin: 0; }
button.small { padding: .2rem .6rem; margin: 0; font-size: .85rem; }
button.link { background: none; color: var(--accent); padding: 0; margin: 0; font-weight: 400; text-decoration: underline; }
button:disabled { opacity: .5; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.inline { display: inline; }
.muted { color: var(--muted); font-size: .9rem; }
.notice { border-radius: 6px; padding: .6rem .8rem; border: 1px solid; }
.notice.error { color: var(--danger); border-color: var(--danger); }
.notice.ok { color: var(--ok); border-color: var(--ok); }
.banner { background: var(--warn); color: #fff; border-radius: 6px; padding: .6rem .8rem; font-weight: 600; }
.up, .ok { color: var(--ok); font-weight: 600; }
.down, .failed { color: var(--danger); font-weight: 600; }
.stale { color: var(--warn); font-weight: 600; }
ul.alerts { padding-left: 1.2rem; }
ul.alerts li { margin: .25rem 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
figure { margin: 0; background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: .75rem; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
svg.chart { width: 100%; height: auto; }
svg.chart .axis { stroke: var(--border); stroke-width: 1; }
svg.chart .signins { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.chart .failures { fill: none; stroke: var(--danger); stroke-width: 1.5; }
svg.chart text { fill: var(--muted); font-size: 10px; }
.legend-signins { color: var(--accent); font-weight: 600; }
.legend-failures { color: var(--danger); font-weight: 600; }
.login { max-width: 24rem; margin: 4rem auto; background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 1.5rem 2rem; }
.login button { width: 100%; }
`;
