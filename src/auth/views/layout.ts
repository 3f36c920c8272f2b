import { documentStart, html, type SafeHtml } from './html.js';

export interface Branding {
  productName: string;
  /** One line shown under the title of every page (a maintenance window, a support contact). */
  notice?: string;
  /** #rrggbb for buttons and focus rings; served as /assets/brand.css so the page CSP stays without inline styles. */
  accentColor?: string;
}
export const DEFAULT_BRANDING: Branding = { productName: 'Cohort' };

/** The accent override; the colour was validated as #rrggbb when it was saved (runtime/settings.ts). */
export function brandStylesheet(branding: Branding): string {
  const accent = /^#[0-9a-fA-F]{6}$/.test(branding.accentColor ?? '') ? branding.accentColor : undefined;
  return accent ? `:root { --accent: ${accent}; }\n@media (prefers-color-scheme: dark) { :root { --accent: ${accent}; } }\n` : '';
}

/** The page chrome: one column, readable without CSS, no scripts. */
export function layout(title: string, body: SafeHtml, branding: Branding = DEFAULT_BRANDING): string {
  const stylesheets = ['/assets/cohort.css', ...(branding.accentColor ? ['/assets/brand.css'] : [])];
  return html`${documentStart(`${title} · ${branding.productName}`, stylesheets)}<main class="card" aria-labelledby="page-title">
<p class="brand">${branding.productName}</p>
<h1 id="page-title">${title}</h1>
${branding.notice ? html`<p class="muted notice">${branding.notice}</p>` : ''}
${body}
</main>
</body>
</html>
`.value;
}

export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #f4f5f7; --card: #fff; --accent: #2f5bd3;
  --danger: #b42318; --border: #d5d9e0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #a3abba; --bg: #14171d; --card: #1d2129;
  --accent: #7b9cff; --danger: #ff8a80; --border: #353b47; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.card { width: min(100% - 2rem, 26rem); background: var(--card); border: 1px solid var(--border); border-radius: 12px;
  padding: 2rem; margin: 2rem 0; }
.brand { margin: 0 0 .25rem; color: var(--muted); font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
  font-size: .8rem; }
h1 { margin: 0 0 1.25rem; font-size: 1.5rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=text], input[type=password] { width: 100%; padding: .6rem .7rem; font: inherit; color: inherit;
  background: transparent; border: 1px solid var(--border); border-radius: 8px; }
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button { margin-top: 1.5rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; border: 0; border-radius: 8px;
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--border); margin-top: .75rem; }
.error { color: var(--danger); border: 1px solid var(--danger); border-radius: 8px; padding: .6rem .8rem; }
.muted { color: var(--muted); font-size: .9rem; }
ul.scopes { padding-left: 1.2rem; }
`;
