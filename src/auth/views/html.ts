// A tagged template that escapes every interpolated value unless it is already SafeHtml. Pages are built only with
// it, so user- and client-supplied text (usernames, client names, error text) can never inject markup.
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string { return this.value; }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => { out += render(value) + strings[i + 1]!; });
  return new SafeHtml(out);
}

/** For markup produced by a trusted library (oidc-provider's logout form). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * The start of every page up to <body>: charset, viewport, noindex, title and stylesheets. Pages have no inline
 * styles or scripts (the CSP forbids them), so this is all a head ever holds; `meta` adds page-specific tags.
 */
export function documentStart(title: string, stylesheets: string[], meta: SafeHtml = html``): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${meta}<title>${title}</title>
${stylesheets.map((href) => html`<link rel="stylesheet" href="${href}">
`)}</head>
<body>
`;
}
