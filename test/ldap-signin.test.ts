// End to end with users in a real OpenLDAP directory (users.backend = ldap): a `cohort start` child signs a directory
// user in through the real pages, then slapd is stopped (the node leaves the balancer's pool and the sign-in page
// says the directory is unavailable) and started again (sign-in works with no Cohort restart).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, USERS, ldapSkipReason, startLdap, type LdapServer } from './support/ldap.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { discover } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5555/callback';
const UNAVAILABLE = 'The user directory is unavailable. Try again in a few minutes.';
const skip = ldapSkipReason() ?? false;

/** The configuration docs/deployment.md shows ("LDAP as the user store"), pointed at the test's slapd. */
function ldapEnv(url: string): NodeJS.ProcessEnv {
  return {
    COHORT_USERS_BACKEND: 'ldap',
    COHORT_LDAP_URL: url,
    COHORT_LDAP_BIND_DN: SERVICE_DN,
    COHORT_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
    COHORT_LDAP_SEARCH_BASE: PEOPLE,
    COHORT_LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid={username}))',
    COHORT_LDAP_GROUP_BASE: GROUPS,
    COHORT_LDAP_ADMIN_GROUP: 'staff',
    COHORT_LDAP_TIMEOUT_MS: '1000',
  };
}

describe('sign-in against an LDAP directory (end to end)', { skip }, () => {
  const dir = tempDir();
  let ldap: LdapServer;
  let node: CohortProcess;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    ldap = await startLdap();
    const created = await runCli(['clients', 'add', '--name', 'Wiki', '--redirect-uri', REDIRECT, '--json'],
      { env: { COHORT_DATA_DIR: dir.path } });
    assert.equal(created.code, 0, created.stderr);
    client = JSON.parse(created.stdout) as typeof client;
    node = await startCohort({ dataDir: dir.path, env: ldapEnv(ldap.url) });
  });

  after(async () => {
    await node?.stop();
    await ldap?.destroy();
    dir.remove();
  });

  async function signInAlice(): Promise<{ claims: Record<string, unknown>; accessToken: string; config: oidc.Configuration }> {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile email groups', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const result = await signIn(new Browser(), authUrl.href, REDIRECT, { username: 'alice', password: USERS.alice.password });
    assert.ok(result.sawLoginPage);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier, expectedState: state });
    return { claims: tokens.claims()! as Record<string, unknown>, accessToken: tokens.access_token, config };
  }

  const lbstatus = async () => (await fetch(`${node.url}/status/v2/lbstatus`)).status;
  const ldapComponent = async () => ((await (await fetch(`${node.url}/status/v2`)).json()) as {
    components: Record<string, { status: string; critical: boolean }>;
  }).components.ldap;

  it('signs a directory user in; the ID token carries their directory groups', async () => {
    const { claims } = await signInAlice();
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.name, USERS.alice.cn);
    assert.equal(claims.email, USERS.alice.mail);
    assert.deepEqual(claims.groups, ['engineering', 'staff']);
    assert.match(String(claims.sub), /^[0-9a-f]{8}-[0-9a-f-]{27}$/, 'sub is the entryUUID');
    assert.deepEqual(await ldapComponent(), { status: 'OK', critical: true });
    assert.equal(await lbstatus(), 200);
    // No first administrator was created in the durable store: users live in the directory.
    assert.ok(!node.stderr.join('').includes('First administrator created'));
  });

  it('refuses a wrong directory password with the usual message', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const browser = new Browser();
    const page = await browser.follow(oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
    }).href, (u) => u.startsWith(REDIRECT));
    const res = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, {
      csrf: hiddenField(page.body, 'csrf'), username: 'alice', password: 'not-the-password',
    });
    assert.equal(res.status, 401);
    assert.match(res.body, /username or password is incorrect/);
  });

  it('leaves the pool and says the directory is unavailable while slapd is down, and recovers without a restart', async (t) => {
    const pid = node.child.pid;
    const before = await signInAlice();
    await ldap.stop();
    const stopped = Date.now();
    try {
      assert.equal(await waitFor('lbstatus 503', async () => (await lbstatus()) === 503, 10_000), true);
      t.diagnostic(`lbstatus 503 ${Date.now() - stopped} ms after slapd stopped`);
      const component = await ldapComponent();
      assert.equal(component?.status, 'FAILED');

      const config = await discover(node.issuer, client.client_id, client.client_secret);
      const browser = new Browser();
      const page = await browser.follow(oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
      }).href, (u) => u.startsWith(REDIRECT));
      assert.equal(page.status, 200, 'the sign-in page itself needs no directory');
      const started = Date.now();
      const res = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, {
        csrf: hiddenField(page.body, 'csrf'), username: 'alice', password: USERS.alice.password,
      });
      assert.equal(res.status, 503);
      assert.ok(res.body.includes(UNAVAILABLE), res.body.slice(0, 800));
      assert.ok(res.body.includes('name="password"'), 'the sign-in form is shown again, ready to retry');
      assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`);
      t.diagnostic(`sign-in answered 503 in ${Date.now() - started} ms`);
      assert.ok(!res.body.includes('ECONNREFUSED') && !res.body.includes('127.0.0.1:'), 'no internals on the page');
      // Protocol endpoints that need the user (userinfo) answer OAuth's temporarily_unavailable, not server_error.
      const userinfo = await fetch(before.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${before.accessToken}` } });
      assert.equal(userinfo.status, 503);
      assert.match(userinfo.headers.get('www-authenticate') ?? JSON.stringify(await userinfo.json()), /temporarily_unavailable/);
    } finally {
      await ldap.start();
    }
    const restarted = Date.now();
    assert.equal(await waitFor('lbstatus 200', async () => (await lbstatus()) === 200, 10_000), true);
    t.diagnostic(`lbstatus 200 ${Date.now() - restarted} ms after slapd started again`);
    assert.equal((await ldapComponent())?.status, 'OK');
    const { claims, accessToken, config } = await signInAlice();
    assert.deepEqual(claims.groups, ['engineering', 'staff']);
    assert.equal((await oidc.fetchUserInfo(config, accessToken, String(claims.sub))).preferred_username, 'alice');
    assert.equal(node.child.pid, pid);
    assert.equal(node.child.exitCode, null, 'the same Cohort process, never restarted');
    const events = node.logs.filter((l) => l.includes('"signin.unavailable"'));
    assert.equal(events.length, 1, 'the refused sign-in was logged as unavailable, not as a failed password');
  });

  it('never writes the directory passwords to its logs', () => {
    const all = node.logs.join('\n') + node.stderr.join('');
    for (const secret of [USERS.alice.password, SERVICE_PASSWORD]) assert.ok(!all.includes(secret), 'a secret appeared in the logs');
  });
});
