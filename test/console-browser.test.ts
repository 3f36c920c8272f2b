// The web console in a real browser (Debian's chromium, headless, driven by playwright-core) against a console and
// two engines as real processes: an administrator signs in, changes a setting, publishes and sees every node at the
// new version; a user's session made through an engine is found on the sessions page and killed, and the user's
// refresh token and SSO are refused afterwards; with the cluster read-only the console shows why and refuses writes.
// Skipped, saying so, when /usr/bin/chromium is missing (CI installs it: apt-get install chromium).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as oidc from 'openid-client';
import type { Browser as Chromium, Page } from 'playwright-core';
import { Browser } from './support/browser.js';
import { CONSOLE_INDEX, TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const REDIRECT = 'http://127.0.0.1:5590/callback';
const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin-password-for-tests';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (install Debian's chromium package to run the console browser test)`;

describe('console in a browser', { timeout: 240_000, skip }, () => {
  let cluster: TestCluster;
  let chromium: Chromium | undefined;
  let page: Page;
  let client: { clientId: string; secret: string };
  let consoleUrl: string;
  const problems: string[] = [];

  before(async () => {
    cluster = await TestCluster.create({ size: 2, console: true });
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: PASSWORD, env: cluster.env() })).code, 0);
    await cluster.startAll();
    await cluster.waitReady();
    const created = await cluster.api('POST', '/admin/api/clients', { name: 'Wiki', redirectUris: [REDIRECT] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    client = { clientId: created.body.client.clientId, secret: created.body.secret };
    assert.equal((await cluster.api('POST', '/admin/api/config/publish')).status, 200);
    consoleUrl = cluster.url(CONSOLE_INDEX);
    const { chromium: launcher } = await import('playwright-core');
    chromium = await launcher.launch({
      executablePath: CHROMIUM, timeout: 30_000,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    });
    const context = await chromium.newContext();
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    // Every request the pages make stays on this machine (no external assets) and nothing breaks the CSP.
    page.on('request', (r) => { if (!r.url().startsWith('http://127.0.0.1:')) problems.push(`request to ${r.url()}`); });
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  });

  after(async () => {
    assert.deepEqual(problems, [], 'no external requests and no CSP violations');
    await chromium?.close().catch(() => {});
    await cluster?.stop();
  });

  const notice = () => page.locator('#notice').innerText();

  it('signs in, changes a setting, publishes, and shows every node at the new version', async () => {
    await page.goto(`${consoleUrl}/console/settings`);
    assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fsettings$/, 'sent to the sign-in page first');
    await page.fill('#username', 'admin');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    assert.match(await page.locator('#form-error').innerText(), /incorrect/);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    assert.match(page.url(), /\/console\/settings$/, 'back where the administrator was going');
    assert.equal(await page.locator('#signed-in-as').innerText(), 'admin');

    await page.fill('#productName', 'Acme Sign-in');
    await page.fill('#maxPerUser', '5');
    await page.click('#save');
    assert.match(await notice(), /Settings saved and staged/);

    await page.click('nav >> text=Publish');
    const diff = await page.locator('#diff tbody').innerText();
    assert.match(diff, /Settings\s+branding\s+modified\s+productName/);
    assert.match(diff, /Settings\s+session\s+modified\s+maxPerUser/);
    await page.click('#publish');
    const published = /Published version (\d+) to (\d+) nodes/.exec(await notice());
    assert.ok(published, `publish notice: ${await notice()}`);
    const version = Number(published[1]);
    assert.equal(Number(published[2]), 2);
    assert.match(await page.locator('#publish-result').innerText(), /1\s+switched/);
    assert.match(await page.locator('#diff tbody').innerText(), /Nothing staged/);

    await page.click('nav >> text=Cluster');
    assert.equal(await page.locator('#published-version').innerText(), `version ${version}`);
    for (const index of [1, 2, CONSOLE_INDEX]) {
      const row = page.locator(`#node-${index}`);
      assert.equal(await row.locator('.config-version').getAttribute('data-version'), String(version), `node ${index}`);
      assert.match(await row.locator('.health').innerText(), /^up/, `node ${index} health`);
    }
    assert.equal(await page.locator('#members tbody tr').count(), 3);
    // The engines serve the new branding.
    const rp = await cluster.rp(1, client.clientId, client.secret);
    const login = await new Browser().follow(oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).href, () => false, 15, cluster.url(1));
    assert.match(login.body, /Acme Sign-in/);

    // The other pages render for the administrator, with their empty states.
    for (const [path, text] of [['/console/health', /Alerts/], ['/console/stats', /Node 1/], ['/console/audit', /config\.published/],
      ['/console/service-providers', /No service providers yet/], ['/console/clients', /Wiki/]] as const) {
      const res = await page.goto(`${consoleUrl}${path}`);
      assert.equal(res?.status(), 200, path);
      assert.match(await page.locator('main').innerText(), text, path);
    }
  });

  it('kills a user\'s session from the sessions page; the refresh token and SSO are refused afterwards', async () => {
    const user = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const rp = await cluster.rp(1, client.clientId, client.secret);
    const authorize = async () => oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const first = await signIn(user, await authorize(), REDIRECT, { username: 'alice', password: PASSWORD }, cluster.url(1));
    assert.ok(first.sawLoginPage);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(first.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    // Before the kill: SSO without a password, and the refresh token works (through the other engine).
    assert.equal((await signIn(user, await authorize(), REDIRECT, undefined, cluster.url(2))).sawLoginPage, false);
    const rp2 = await cluster.rp(2, client.clientId, client.secret);
    const refreshed = await oidc.refreshTokenGrant(rp2, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token, 'a rotated refresh token');

    await page.goto(`${consoleUrl}/console/sessions`);
    await page.fill('#user', 'alice');
    await page.click('form[role=search] button');
    const rows = page.locator('#sessions tr.session');
    assert.equal(await rows.count(), 1, await page.locator('main').innerText());
    assert.match(await rows.first().innerText(), /alice[\s\S]*Wiki|alice[\s\S]*oidc/);
    await rows.first().locator('button', { hasText: 'Kill' }).click();
    assert.match(await notice(), /Session ended on every node/);
    assert.match(await page.locator('#sessions tbody').innerText(), /alice has no live sessions/);

    await assert.rejects(oidc.refreshTokenGrant(rp2, refreshed.refresh_token!),
      (err: Error & { error?: string }) => err.error === 'invalid_grant', 'the refresh token is refused');
    const again = await signIn(user, await authorize(), REDIRECT, { username: 'alice', password: PASSWORD }, cluster.url(2));
    assert.equal(again.sawLoginPage, true, 'SSO asks for the password again');
  });

  it('shows why configuration writes are refused while the cluster is read-only, and refuses them', async () => {
    await cluster.kill(1);
    await cluster.kill(2);
    await waitFor('the console to go read-only', async () => (await cluster.status(CONSOLE_INDEX)).ClusterStatus.readOnly, 20_000);
    await page.goto(`${consoleUrl}/console/settings`);
    assert.match(await page.locator('#read-only').innerText(), /read-only: only 1 of its 3 configured members can be reached/i);
    assert.equal(await page.locator('#save').isDisabled(), true);
    // A write sent anyway (the form as it was before the outage) gets the API's 409 and its reason.
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const res = await page.request.post(`${consoleUrl}/console/settings`, {
      form: { csrf: csrf!, maxPerUser: '7', limitAction: 'refuse', productName: 'Other', accentColor: '', notice: '', oidc: 'on' },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 409);
    assert.match(await res.text(), /read-only: only 1 of its 3 configured members/);
    await page.goto(`${consoleUrl}/console/health`);
    assert.match(await page.locator('#alerts').innerText(), /The cluster is read-only[\s\S]*Node 1\b.* is down/);
  });
});
