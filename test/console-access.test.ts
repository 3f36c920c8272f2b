// Who gets into the web console: every page (and every form post) redirects to the sign-in page without a session,
// with a forged one, with someone else's HTTP credentials, and after sign-out; a signed-in user without the admin
// role is refused with a 403 that says why and gets no session; the admin API refuses the console cookie when it is
// forged or signed out (401), and state-changing calls with it need the CSRF header (403). Table-driven from the
// console's own page list, so a page added to the console is covered here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, hiddenField } from './support/browser.js';
import { CONSOLE_INDEX, TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { CONSOLE_PAGES } from '../src/admin/console/routes.js';

const PAGES = [...CONSOLE_PAGES.map((p) => p.path), '/console/no-such-page'];
const API: Array<[method: string, path: string]> = [
  ['GET', '/admin/api/sessions'], ['DELETE', '/admin/api/sessions/AAAAAAAAAAAAAAAAAAAAAA'], ['DELETE', '/admin/api/users/alice/sessions'],
  ['GET', '/admin/api/cluster'], ['GET', '/admin/api/cluster/connectivity'], ['POST', '/admin/api/nodes/1/sync'],
  ['GET', '/admin/api/config'], ['GET', '/admin/api/config/diff'], ['POST', '/admin/api/config/publish'], ['GET', '/admin/api/config/versions'],
  ['GET', '/admin/api/settings'], ['PUT', '/admin/api/settings'],
  ['GET', '/admin/api/clients'], ['POST', '/admin/api/clients'], ['GET', '/admin/api/clients/c1'], ['PUT', '/admin/api/clients/c1'], ['DELETE', '/admin/api/clients/c1'],
  ['GET', '/admin/api/service-providers'], ['POST', '/admin/api/service-providers'], ['GET', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'],
  ['PUT', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'], ['DELETE', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'],
  ['GET', '/admin/api/keys'], ['POST', '/admin/api/keys/rotate'], ['POST', '/admin/api/keys/some-kid/retire'],
  ['GET', '/admin/api/audit'], ['GET', '/admin/api/stats'],
];
const SAFE = new Set(['GET', 'HEAD']);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('console: access to pages and to the API with the console cookie', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let base: string;
  /** The administrator's console cookie value (signed in once, signed out in the last test). */
  let adminCookie: string;

  /** Signs in through the form; returns the browser and the response to the sign-in post. */
  async function consoleSignIn(username: string, password: string) {
    const browser = new Browser();
    const form = await browser.get(`${base}/console/login`);
    assert.equal(form.status, 200);
    const res = await browser.post(`${base}/console/login`, { csrf: hiddenField(form.body, 'csrf'), next: '/console/', username, password });
    return { browser, res, cookie: browser.cookies().find((c) => c.name === 'cohort_console' && c.path === '/console')?.value };
  }

  const api = async (method: string, path: string, headers: Record<string, string>, url = base) => {
    const res = await fetch(`${url}${path}`, {
      method, headers: { accept: 'application/json', ...(SAFE.has(method) || method === 'DELETE' ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(SAFE.has(method) || method === 'DELETE' ? {} : { body: '{}' }), signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) as { error?: string } | undefined };
  };

  before(async () => {
    cluster = await TestCluster.create({ size: 1, console: true });
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: 'a long enough password', env: cluster.env() })).code, 0);
    await cluster.startAll();
    await cluster.waitReady();
    base = cluster.url(CONSOLE_INDEX);
    const admin = await consoleSignIn('admin', 'admin-password-for-tests');
    assert.equal(admin.res.status, 303);
    assert.equal(admin.res.location, `${base}/console/`);
    assert.ok(admin.cookie, 'the administrator got a console session');
    const setCookies = ([] as string[]).concat(admin.res.headers['set-cookie'] ?? []).filter((c) => c.startsWith('cohort_console='));
    assert.deepEqual(setCookies.map((c) => /Path=([^;]+)/.exec(c)?.[1]).sort(), ['/admin/api', '/console']);
    for (const c of setCookies) assert.match(c, /HttpOnly; SameSite=Strict/);
    adminCookie = admin.cookie;
  });

  after(async () => { await cluster?.stop(); });

  const forged = () => `${adminCookie.slice(0, -4)}AAAA`;

  for (const path of PAGES) {
    it(`page ${path}: refused without a valid admin session`, async () => {
      const anonymous = new Browser();
      const get = await anonymous.get(`${base}${path}`);
      assert.equal(get.status, 303, 'GET without a session');
      assert.equal(get.location, `${base}/console/login?next=${encodeURIComponent(path)}`);
      const post = await anonymous.post(`${base}${path}`, { csrf: 'x' });
      assert.ok(post.status === 303 || post.status === 404, `POST without a session: ${post.status}`);
      if (post.status === 303) assert.equal(post.location, `${base}/console/login`);
      const withBasic = await anonymous.send('GET', `${base}${path}`, { headers: { authorization: basic('alice', 'a long enough password') } });
      assert.equal(withBasic.status, 303, 'HTTP Basic of a user does not open the console');
      const withToken = await anonymous.send('GET', `${base}${path}`, { headers: { authorization: 'Bearer test-admin-api-token-0123456789abcdef' } });
      assert.equal(withToken.status, 303, 'the API token does not open the pages either');
      const tampered = new Browser();
      tampered.setCookie('cohort_console', forged(), '127.0.0.1', '/console');
      const res = await tampered.get(`${base}${path}`);
      assert.equal(res.status, 303, 'a forged session');
      assert.ok(([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => /^cohort_console=;.*Max-Age=0/.test(c)), 'the forged cookie is cleared');

      const admin = new Browser();
      admin.setCookie('cohort_console', adminCookie, '127.0.0.1', '/console');
      const ok = await admin.get(`${base}${path}`);
      assert.equal(ok.status, path === '/console/no-such-page' ? 404 : 200, `the administrator: ${ok.body.slice(0, 300)}`);
      assert.match(String(ok.headers['content-security-policy']), /default-src 'none'/);
      // A form post without the session's CSRF token is refused.
      if (path !== '/console/no-such-page') assert.equal((await admin.post(`${base}${path}`, { csrf: 'not-the-token' })).status, 403, 'POST without the CSRF token');
    });
  }

  it('refuses a user without the admin role at sign-in, with a 403 that says why and no session', async () => {
    const { res, cookie } = await consoleSignIn('alice', 'a long enough password');
    assert.equal(res.status, 403);
    assert.match(res.body, /does not have the admin role/);
    assert.equal(cookie, undefined);
    const wrong = await consoleSignIn('admin', 'wrong password');
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.cookie, undefined);
    // The sign-in form itself needs its CSRF token.
    assert.equal((await new Browser().post(`${base}/console/login`, { username: 'admin', password: 'admin-password-for-tests' })).status, 403);
  });

  for (const [method, path] of API) {
    it(`API ${method} ${path}: the console cookie only when valid, and with the CSRF header for changes`, async () => {
      const none = await api(method, path, {});
      assert.equal(none.status, 401, 'no credentials');
      const bad = await api(method, path, { cookie: `cohort_console=${forged()}` });
      assert.equal(bad.status, 401, 'a forged console cookie');
      const valid = await api(method, path, { cookie: `cohort_console=${adminCookie}` });
      if (SAFE.has(method)) assert.ok(valid.status !== 401 && valid.status !== 403, `GET with the console cookie: ${valid.status}`);
      else {
        assert.equal(valid.status, 403, 'a change without the CSRF header');
        assert.equal(valid.body?.error, 'ADMIN_CSRF');
      }
    });
  }

  it('ignores the console cookie on an engine', async () => {
    assert.equal((await api('GET', '/admin/api/sessions', { cookie: `cohort_console=${adminCookie}` }, cluster.url(1))).status, 401);
  });

  it('refuses the session everywhere after sign-out', async () => {
    const admin = new Browser();
    admin.setCookie('cohort_console', adminCookie, '127.0.0.1', '/console');
    const page = await admin.get(`${base}/console/`);
    const out = await admin.post(`${base}/console/logout`, { csrf: hiddenField(page.body, 'csrf') });
    assert.equal(out.status, 303);
    assert.equal(out.location, `${base}/console/login?signedout=1`);
    const stale = new Browser();
    stale.setCookie('cohort_console', adminCookie, '127.0.0.1', '/console');
    assert.equal((await stale.get(`${base}/console/`)).status, 303);
    assert.equal((await api('GET', '/admin/api/config', { cookie: `cohort_console=${adminCookie}` })).status, 401);
  });
});
