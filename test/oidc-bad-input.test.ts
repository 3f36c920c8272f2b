// Bad input against a real `cohort start` process: each is answered with a clear 4xx (or an OAuth error redirect to
// a registered URI), never a crash, and the server keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { discover } from './support/rp.js';
import { signIn } from './support/signin.js';

const REDIRECT = 'http://127.0.0.1:5556/callback';
const PASSWORD = 'a long enough password';
const MAX_FAILURES = 3;

describe('bad input (single node)', () => {
  const dir = tempDir();
  let node: CohortProcess;
  let client: { client_id: string; client_secret: string };
  let publicClientId: string;

  before(async () => {
    const env = { COHORT_DATA_DIR: dir.path };
    for (const name of ['bob', 'carol', 'dave']) {
      assert.equal((await runCli(['users', 'add', name, '--password-stdin'], { stdin: PASSWORD, env })).code, 0);
    }
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env })).stdout) as typeof client;
    publicClientId = (JSON.parse((await runCli(['clients', 'add', '--public', '--redirect-uri', REDIRECT, '--json'], { env })).stdout) as { client_id: string }).client_id;
    node = await startCohort({ dataDir: dir.path, env: {
      COHORT_ADMIN_PASSWORD: 'admin-password-for-tests', COHORT_AUTH_LOCKOUT_MAX_FAILURES_PER_USER: String(MAX_FAILURES),
    } });
  });

  after(async () => {
    await node?.stop();
    dir.remove();
  });

  async function authUrl(clientId: string, extra: Record<string, string> = {}): Promise<string> {
    const url = new URL('/auth', node.issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    for (const [k, v] of Object.entries({
      client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    })) url.searchParams.set(k, v);
    return url.href;
  }

  async function loginPage(browser: Browser, clientId = client.client_id) {
    const page = await browser.follow(await authUrl(clientId));
    assert.equal(page.status, 200);
    assert.ok(page.body.includes('name="username"') && page.body.includes('name="password"'));
    return page;
  }

  async function attempt(browser: Browser, username: string, password: string) {
    const page = await loginPage(browser);
    return browser.post(new URL(formAction(page.body, '/login'), page.url).href, { csrf: hiddenField(page.body, 'csrf'), username, password });
  }

  it('answers a wrong password and an unknown user with the same generic message', async () => {
    const browser = new Browser();
    const wrong = await attempt(browser, 'bob', 'not the password');
    const unknown = await attempt(browser, 'nobody-here', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.match(wrong.body, /The username or password is incorrect\./);
    assert.match(unknown.body, /The username or password is incorrect\./);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, /cohort_signins_total\{result="failed"\} [2-9]/);
  });

  it('locks an account after the configured number of failures, even with the right password', async () => {
    const browser = new Browser();
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await attempt(browser, 'carol', 'wrong')).status, 401);
    const locked = await attempt(browser, 'carol', PASSWORD);
    assert.equal(locked.status, 429);
    assert.match(locked.body, /Too many failed sign-in attempts/);
    // Another user is unaffected.
    const ok = await attempt(browser, 'dave', PASSWORD);
    assert.equal(ok.status, 303);
  });

  it('refuses an unknown client with an error page', async () => {
    const res = await new Browser().get(await authUrl('no-such-client'));
    assert.equal(res.status, 400);
    assert.match(res.body, /not registered/);
  });

  it('never redirects to a redirect_uri that is not registered', async () => {
    const res = await new Browser().get(await authUrl(client.client_id, { redirect_uri: 'https://evil.example/cb' }));
    assert.equal(res.status, 400);
    assert.equal(res.location, undefined);
    assert.match(res.body, /redirect_uri/);
  });

  it('requires PKCE from a public client', async () => {
    const url = new URL(await authUrl(publicClientId));
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const res = await new Browser().get(url.href);
    assert.equal(res.status, 303);
    const back = new URL(res.location!);
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  it('refuses an authorization code used twice and revokes what it issued', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const browser = new Browser();
    const result = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT, { username: 'bob', password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    await assert.rejects(oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier }),
      (err: Error & { error?: string }) => err.error === 'invalid_grant');
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
  });

  it('treats a tampered session cookie as no session and a tampered interaction cookie as a 400', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    await signIn(browser, url, REDIRECT, { username: 'bob', password: PASSWORD });
    for (const c of browser.cookies().filter((c) => c.name.startsWith('cohort_session'))) {
      browser.setCookie(c.name, `${c.value.slice(0, -2)}xx`, '127.0.0.1', c.path);
    }
    const page = await browser.follow(url, (u) => u.startsWith(REDIRECT));
    assert.ok(page.body.includes('name="password"'), 'a forged session cookie grants no SSO');

    for (const c of browser.cookies().filter((c) => c.name.startsWith('cohort_interaction'))) {
      browser.setCookie(c.name, `${c.value}tampered`, '127.0.0.1', c.path);
    }
    const res = await browser.get(page.url);
    assert.equal(res.status, 400);
    assert.match(res.body, /expired or is not valid/);
  });

  it('refuses a forged CSRF token and an oversized or malformed form', async () => {
    const browser = new Browser();
    const page = await loginPage(browser);
    const action = new URL(formAction(page.body, '/login'), page.url).href;
    const forged = await browser.post(action, { csrf: 'forged', username: 'bob', password: PASSWORD });
    assert.equal(forged.status, 403);
    const big = await browser.send('POST', action, { form: { csrf: hiddenField(page.body, 'csrf'), username: 'bob', password: 'x'.repeat(100_000) } });
    assert.equal(big.status, 413);
    const malformed = await browser.send('POST', action, {
      body: Buffer.from([0x75, 0x3d, 0xff, 0xfe]), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(malformed.status, 400);
    const json = await browser.send('POST', new URL('/token', node.issuer).href, {
      body: '{"grant_type": ', headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    assert.equal(json.status, 400);
  });

  it('asks a user disabled after signing in to sign in again, refuses the password and deactivates their tokens', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const browser = new Browser();
    const result = await signIn(browser, url, REDIRECT, { username: 'dave', password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
    assert.equal((await runCli(['users', 'disable', 'dave'], { env: { COHORT_DATA_DIR: dir.path } })).code, 0);
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false, 'a disabled user\'s token is inactive');
    const page = await browser.follow(url, (u) => u.startsWith(REDIRECT));
    assert.equal(page.status, 200);
    assert.ok(page.body.includes('name="password"'), 'the sign-in page is shown again');
    const refused = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, {
      csrf: hiddenField(page.body, 'csrf'), username: 'dave', password: PASSWORD,
    });
    assert.equal(refused.status, 401);
  });

  it('is still up and healthy afterwards', async () => {
    assert.equal((await fetch(`${node.url}/status/v2/lbstatus`)).status, 200);
    assert.equal(node.child.exitCode, null);
  });
});
