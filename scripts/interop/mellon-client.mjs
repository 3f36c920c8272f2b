#!/usr/bin/env node
// The browser for scripts/interop/mellon.sh: signs in to two Apache mod_auth_mellon service providers through
// Cohort, with only node's fetch, a cookie jar kept by hand, redirects followed one by one and SAML's auto-submitting
// forms submitted as a browser would. Nothing here is Cohort code: every SAML message it carries was built by lasso
// (mod_auth_mellon) or by Cohort.
//
// Usage: node mellon-client.mjs --post-sp URL --artifact-sp URL --idp URL --username U --password P
//          [--email E] [--group G]
//   --post-sp      base URL of the SP that takes the Response over HTTP-POST (its pages: /protected/, /mellon/)
//   --artifact-sp  base URL of the SP that takes it over HTTP-Artifact
//   --idp          Cohort's public base URL (the issuer)
// Progress goes to stderr, a JSON summary to stdout. Exit status 0 when every check passed, 1 with the reason.

import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    'post-sp': { type: 'string' }, 'artifact-sp': { type: 'string' }, idp: { type: 'string' },
    username: { type: 'string' }, password: { type: 'string' }, email: { type: 'string' }, group: { type: 'string' },
    'step-timeout-ms': { type: 'string', default: '20000' },
  },
});
for (const required of ['post-sp', 'artifact-sp', 'idp', 'username', 'password']) {
  if (!opts[required]) {
    process.stderr.write(`mellon-client: --${required} is required\n`);
    process.exit(2);
  }
}
const STEP_TIMEOUT_MS = Number(opts['step-timeout-ms']);
const IDP = new URL(opts.idp);

class CheckFailed extends Error {}
const progress = (msg) => process.stderr.write(`[mellon-client] ${msg}\n`);
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

// --- HTML -----------------------------------------------------------------------------------------------------

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_, e) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower];
  });
}

function attr(tag, name) {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decodeEntities(m[1] ?? m[2] ?? m[3]) : undefined;
}

/** The forms of a page: action, method and every input with a name (hidden or not). */
function forms(html) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields = {};
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name) fields[name] = attr(input[0], 'value') ?? '';
    }
    out.push({ action: attr(`<form${m[1]}>`, 'action') ?? '', method: (attr(`<form${m[1]}>`, 'method') ?? 'get').toLowerCase(), fields });
  }
  return out;
}

// --- A browser: cookies per host (browsers do not separate ports), redirects by hand ------------------------

class Browser {
  constructor(name) {
    this.name = name;
    /** host -> Map(name|path -> { name, value, path }) */
    this.jar = new Map();
  }

  cookieHeader(url) {
    const cookies = this.jar.get(url.hostname);
    if (!cookies) return undefined;
    const sent = [...cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`);
    return sent.length > 0 ? sent.join('; ') : undefined;
  }

  store(url, setCookies) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const a of attrs) {
        const [k, ...v] = a.split('=');
        const key = k.trim().toLowerCase();
        const val = v.join('=').trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        if (key === 'max-age' && Number(val) <= 0) expired = true;
        if (key === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      if (!this.jar.has(url.hostname)) this.jar.set(url.hostname, new Map());
      const cookies = this.jar.get(url.hostname);
      if (expired) cookies.delete(`${name}|${path}`);
      else cookies.set(`${name}|${path}`, { name, value, path });
    }
  }

  async request(method, href, form) {
    const url = new URL(href);
    const headers = { 'user-agent': 'cohort-mellon-interop/1', accept: 'text/html,*/*' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    } catch (err) {
      throw new CheckFailed(`${method} ${url.href} failed: ${err.cause?.message ?? err.message}`);
    }
    this.store(url, res.headers.getSetCookie());
    const text = await res.text();
    const location = res.headers.get('location');
    return { url: url.href, status: res.status, body: text, location: location ? new URL(location, url).href : undefined };
  }
}

// --- Following a sign-in or logout through every hop ----------------------------------------------------------

/**
 * Follows redirects and auto-submitting forms from `start` until a page that is neither is reached. Fills Cohort's
 * sign-in form when `credentials` are given (and fails when it appears without them). Returns every hop.
 */
async function browse(browser, start, { credentials, stopAt } = {}) {
  const hops = [];
  let res = await browser.request('GET', start);
  for (let step = 0; step < 25; step++) {
    const url = new URL(res.url);
    hops.push({ method: res.method ?? 'GET', url: res.url, status: res.status });
    progress(`${browser.name}: ${res.status} ${url.origin}${url.pathname}${url.search ? `?${[...url.searchParams.keys()].join('&')}` : ''}`);
    if (stopAt && stopAt(res)) return { final: res, hops };
    if (res.status >= 300 && res.status < 400 && res.location) {
      res = await browser.request('GET', res.location);
      continue;
    }
    if (res.status !== 200) {
      throw new CheckFailed(`${browser.name}: unexpected ${res.status} at ${res.url}: ${res.body.replace(/\s+/g, ' ').slice(0, 600)}`);
    }
    const page = forms(res.body);
    const login = page.find((f) => 'password' in f.fields);
    if (login) {
      hops.at(-1).login = true;
      if (!credentials) return { final: res, hops };
      check('csrf' in login.fields, `the sign-in form at ${res.url} has no csrf field`);
      res = await browser.request('POST', new URL(login.action || res.url, res.url).href, {
        ...login.fields, username: credentials.username, password: credentials.password,
      });
      res.method = 'POST';
      continue;
    }
    const saml = page.find((f) => f.method === 'post' && ('SAMLResponse' in f.fields || 'SAMLRequest' in f.fields));
    if (saml) {
      const target = new URL(saml.action, res.url).href;
      hops.at(-1).autoPost = { target, kind: 'SAMLResponse' in saml.fields ? 'SAMLResponse' : 'SAMLRequest' };
      res = await browser.request('POST', target, saml.fields);
      res.method = 'POST';
      continue;
    }
    const consent = page.find((f) => /\/confirm$/.test(new URL(f.action || res.url, res.url).pathname) && 'csrf' in f.fields);
    if (consent) {
      res = await browser.request('POST', new URL(consent.action, res.url).href, consent.fields);
      res.method = 'POST';
      continue;
    }
    return { final: res, hops };
  }
  throw new CheckFailed(`${browser.name}: no end after 25 hops from ${start}`);
}

/** The KEY=value lines the protected page prints (SSI echo of mod_auth_mellon's variables). */
function pageValues(html) {
  const values = {};
  for (const m of html.matchAll(/^([A-Z_]+)=(.*)$/gm)) values[m[1]] = decodeEntities(m[2].trim());
  return values;
}

const isIdp = (href) => new URL(href).origin === IDP.origin;

async function signIn(browser, spBase, { expectLogin, expectBinding }) {
  const target = `${spBase}/protected/`;
  const { final, hops } = await browse(browser, target, expectLogin ? { credentials: { username: opts.username, password: opts.password } } : {});
  const sawLogin = hops.some((h) => h.login);
  check(sawLogin === expectLogin, expectLogin
    ? `${browser.name}: Cohort's sign-in page was not shown for ${spBase}`
    : `${browser.name}: Cohort asked to sign in again at ${spBase} although the session should give single sign-on`);
  check(hops.some((h) => isIdp(h.url) && new URL(h.url).pathname === '/saml/sso'), `${browser.name}: ${spBase} never sent the browser to Cohort's /saml/sso`);
  const posted = hops.find((h) => h.autoPost?.kind === 'SAMLResponse');
  const artifactHop = hops.find((h) => new URL(h.url).pathname === new URL(`${spBase}/mellon/artifactResponse`).pathname);
  if (expectBinding === 'HTTP-POST') {
    check(posted && new URL(posted.autoPost.target).pathname.endsWith('/mellon/postResponse'),
      `${browser.name}: no SAMLResponse was POSTed to ${spBase}/mellon/postResponse`);
    check(!artifactHop, `${browser.name}: an artifact was delivered where HTTP-POST was expected`);
  } else {
    check(artifactHop && new URL(artifactHop.url).searchParams.has('SAMLart'),
      `${browser.name}: no SAMLart reached ${spBase}/mellon/artifactResponse`);
    check(!posted, `${browser.name}: a SAMLResponse was POSTed where HTTP-Artifact was expected`);
  }
  check(final.url === target, `${browser.name}: ended at ${final.url} instead of ${target}: ${final.body.replace(/\s+/g, ' ').slice(0, 400)}`);
  const values = pageValues(final.body);
  check(values.UID === opts.username, `${browser.name}: the protected page shows UID=${values.UID ?? '(missing)'}, expected ${opts.username}:\n${final.body}`);
  check(values.NAME_ID && values.NAME_ID !== '(none)', `${browser.name}: the protected page shows no MELLON_NAME_ID:\n${final.body}`);
  check(values.REMOTE_USER === values.NAME_ID, `${browser.name}: REMOTE_USER (${values.REMOTE_USER}) is not the NameID (${values.NAME_ID})`);
  if (opts.email) check(values.MAIL === opts.email, `${browser.name}: MAIL=${values.MAIL}, expected ${opts.email}`);
  if (opts.group) check((values.GROUPS ?? '').split(';').includes(opts.group), `${browser.name}: GROUPS=${values.GROUPS}, expected it to contain ${opts.group}`);
  check(values.IDP === `${IDP.origin}/saml/metadata`,
    `${browser.name}: MELLON_IDP=${values.IDP} is not Cohort (${IDP.origin})`);
  progress(`${browser.name}: signed in to ${spBase} over ${expectBinding}${expectLogin ? '' : ' (single sign-on)'}: NameID ${values.NAME_ID}, uid ${values.UID}`);
  return { nameId: values.NAME_ID, values, hops: hops.length };
}

/** Starts a logout at `spBase` (mod_auth_mellon's /mellon/logout) and follows it back to ReturnTo. */
async function logout(browser, spBase, { propagatesTo } = {}) {
  const returnTo = `${new URL(spBase).origin}/logged-out.html`;
  const { final, hops } = await browse(browser, `${spBase}/mellon/logout?ReturnTo=${encodeURIComponent(returnTo)}`);
  check(hops.some((h) => isIdp(h.url) && new URL(h.url).pathname === '/saml/slo' && new URL(h.url).searchParams.has('SAMLRequest')),
    `${browser.name}: the logout at ${spBase} never sent a LogoutRequest to Cohort's /saml/slo`);
  check(hops.some((h) => isIdp(h.url) && new URL(h.url).pathname === '/saml/slo' && new URL(h.url).searchParams.has('SAMLResponse')) || !propagatesTo,
    `${browser.name}: no LogoutResponse came back to Cohort from ${propagatesTo}`);
  if (propagatesTo) {
    check(hops.some((h) => new URL(h.url).pathname === new URL(`${propagatesTo}/mellon/logout`).pathname && new URL(h.url).searchParams.has('SAMLRequest')),
      `${browser.name}: Cohort did not send a LogoutRequest through ${propagatesTo}/mellon/logout (logout propagation)`);
  }
  check(hops.some((h) => new URL(h.url).pathname === new URL(`${spBase}/mellon/logout`).pathname && new URL(h.url).searchParams.has('SAMLResponse')),
    `${browser.name}: Cohort did not answer ${spBase} with a LogoutResponse`);
  check(final.url === returnTo && final.status === 200, `${browser.name}: the logout ended at ${final.status} ${final.url} instead of ${returnTo}`);
  progress(`${browser.name}: single logout from ${spBase}${propagatesTo ? ` (propagated to ${propagatesTo})` : ''} came back to ReturnTo`);
  return hops.length;
}

/** After logout the SP and Cohort both ask the browser to sign in again. */
async function expectSignedOut(browser, spBase) {
  const after = await browse(browser, `${spBase}/protected/`);
  check(isIdp(after.final.url) && after.hops.some((h) => h.login),
    `${browser.name}: after logout, ${spBase}/protected/ did not lead to Cohort's sign-in page (ended at ${after.final.status} ${after.final.url})`);
}

async function main() {
  const postSp = opts['post-sp'].replace(/\/$/, '');
  const artifactSp = opts['artifact-sp'].replace(/\/$/, '');
  const summary = {};

  // 1. A first browser signs in to the HTTP-POST SP and logs out there (SP-initiated, no other participant).
  //    (mod_auth_mellon finds the session a LogoutRequest ends by NameID alone, so the two browsers are not signed
  //    in to the same SP with the same persistent NameID at once.)
  const first = new Browser('browser-1');
  summary.post = await signIn(first, postSp, { expectLogin: true, expectBinding: 'HTTP-POST' });
  summary.postLogoutHops = await logout(first, postSp);
  await expectSignedOut(first, postSp);

  // 2. A second browser signs in to the HTTP-Artifact SP (mellon resolves the artifact over SOAP), then reaches
  //    the HTTP-POST SP by single sign-on.
  const second = new Browser('browser-2');
  summary.artifact = await signIn(second, artifactSp, { expectLogin: true, expectBinding: 'HTTP-Artifact' });
  summary.sso = await signIn(second, postSp, { expectLogin: false, expectBinding: 'HTTP-POST' });
  check(summary.sso.nameId === summary.post.nameId,
    `the persistent NameID for ${postSp} changed between sessions: ${summary.post.nameId} vs ${summary.sso.nameId}`);
  check(summary.artifact.nameId !== summary.post.nameId, 'the two SPs got the same persistent NameID (it must be pairwise)');

  // 3. Single logout started at the artifact SP: mellon sends a LogoutRequest to Cohort's /saml/slo, Cohort takes
  //    the browser through the POST SP's SingleLogoutService, and answers the artifact SP, which goes to ReturnTo.
  summary.sloHops = await logout(second, artifactSp, { propagatesTo: postSp });

  // 4. Both SPs, and Cohort, ask browser-2 to sign in again.
  await expectSignedOut(second, postSp);
  await expectSignedOut(second, artifactSp);
  progress('browser-2: after logout both SPs and Cohort ask to sign in again');

  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  process.stderr.write(`[mellon-client] FAILED: ${err instanceof CheckFailed ? err.message : err.stack}\n`);
  process.exit(1);
});
