// Three real node processes on loopback, as a balancer would see them: SSO across nodes, a node SIGKILLed with
// nobody signing in again, one-time codes redeemed exactly once across the failover, read-only with two of three
// down, and the restarted nodes catching up before they report lbstatus OK.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField, roundRobin } from './support/browser.js';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5560/callback';
const PASSWORD = 'correct horse battery staple';

describe('cluster of three: failover', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let client: { client_id: string; client_secret: string };
  let carolPassword: string;

  before(async () => {
    cluster = await TestCluster.create({ size: 3 });
    const env = cluster.env();
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--groups', 'staff'], { stdin: PASSWORD, env })).code, 0);
    assert.equal((await runCli(['users', 'add', 'bob', '--password-stdin'], { stdin: PASSWORD, env })).code, 0);
    // carol gets a generated one-time password: her first sign-in must change it (a credential write).
    const carol = await runCli(['users', 'add', 'carol'], { env });
    carolPassword = /([A-Za-z0-9]{20})/.exec(carol.stdout)![1]!;
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env })).stdout) as typeof client;
    await cluster.startAll();
    for (const i of [1, 2, 3]) {
      await waitFor(`node ${i} ready with three members`, async () => (await cluster.lbStatus(i)) === 200
        && (await cluster.status(i)).ClusterStatus.members.filter((m) => m.state === 'alive').length === 3, 20_000);
    }
  });

  after(async () => { await cluster?.stop(); });

  async function authorize(config: oidc.Configuration, verifier: string): Promise<string> {
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile groups',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
  }

  it('completes sign-ins behind a round-robin balancer with no stickiness', async () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const browser = new Browser();
      const restore = roundRobin(browser, cluster.issuer, () => [1, 2, 3].map((i) => cluster.url(i)));
      // Start on a different node each time, so the session's first node and the sign-in's node differ.
      for (let skip = 0; skip < attempt; skip++) await browser.get(`${cluster.issuer}/status/v2/lbstatus`);
      try {
        const verifier = oidc.randomPKCECodeVerifier();
        const rp = await cluster.rp(1 + (attempt % 3), client.client_id, client.client_secret);
        const result = await signIn(browser, await authorize(rp, verifier), REDIRECT, { username: 'bob', password: PASSWORD });
        const tokens = await oidc.authorizationCodeGrant(await cluster.rp(1 + ((attempt + 1) % 3), client.client_id, client.client_secret),
          new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
        assert.ok(tokens.id_token, `attempt ${attempt}`);
      } finally {
        restore();
      }
    }
  });

  it('signs in once and reaches applications through every node with no sign-in page, across a SIGKILL', async () => {
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const rp1 = await cluster.rp(1, client.client_id, client.client_secret);
    const first = await signIn(browser, await authorize(rp1, verifier), REDIRECT, { username: 'alice', password: PASSWORD }, cluster.url(1));
    assert.ok(first.sawLoginPage);
    const tokens = await oidc.authorizationCodeGrant(rp1, new URL(first.callbackUrl), { pkceCodeVerifier: verifier });
    assert.deepEqual(tokens.claims()!.groups, ['staff']);
    assert.match(tokens.access_token, /\.1$/, 'the access token is owned by node 1');

    for (const i of [2, 3]) {
      const sso = await signIn(browser, await authorize(rp1, verifier), REDIRECT, undefined, cluster.url(i));
      assert.equal(sso.sawLoginPage, false, `node ${i} recognised the session`);
      const rp = await cluster.rp(i, client.client_id, client.client_secret);
      const t = await oidc.authorizationCodeGrant(rp, new URL(sso.callbackUrl), { pkceCodeVerifier: verifier });
      assert.equal(t.claims()!.sub, tokens.claims()!.sub);
    }

    // A code issued by node 1 that the application has not redeemed yet when node 1 dies.
    const pending = await signIn(browser, await authorize(rp1, verifier), REDIRECT, undefined, cluster.url(1));
    assert.match(new URL(pending.callbackUrl).searchParams.get('code')!, /\.1$/);

    await cluster.kill(1);
    for (const i of [2, 3]) {
      await waitFor(`node ${i} to see node 1 dead`, async () =>
        (await cluster.status(i)).ClusterStatus.members.find((m) => m.index === 1)?.state === 'dead', 10_000);
    }

    const after = await signIn(browser, await authorize(rp1, verifier), REDIRECT, undefined, cluster.url(2));
    assert.equal(after.sawLoginPage, false, 'no sign-in page after node 1 died');
    const rp3 = await cluster.rp(3, client.client_id, client.client_secret);
    assert.equal((await oidc.tokenIntrospection(rp3, tokens.access_token)).active, true, 'node 1\'s token is active through node 3');

    const rp2 = await cluster.rp(2, client.client_id, client.client_secret);
    const redeemed = await oidc.authorizationCodeGrant(rp2, new URL(pending.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(redeemed.access_token);
    await assert.rejects(oidc.authorizationCodeGrant(rp3, new URL(pending.callbackUrl), { pkceCodeVerifier: verifier }),
      (err: Error & { error?: string }) => err.error === 'invalid_grant', 'the second redemption is refused');
  });

  it('goes read-only with two of three down, keeps sessions working, refuses credential changes, and recovers', async () => {
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const rp3 = await cluster.rp(3, client.client_id, client.client_secret);
    await signIn(browser, await authorize(rp3, verifier), REDIRECT, { username: 'bob', password: PASSWORD }, cluster.url(3));

    await cluster.kill(2);
    await waitFor('node 3 read-only', async () => (await cluster.status(3)).ClusterStatus.readOnly === true, 10_000);
    const status = await cluster.status(3);
    assert.equal(status.ClusterStatus.state, 'read-only');
    assert.equal(await cluster.lbStatus(3), 200, 'a read-only node stays in the pool: users can still sign in');

    const sso = await signIn(browser, await authorize(rp3, verifier), REDIRECT, undefined, cluster.url(3));
    assert.equal(sso.sawLoginPage, false, 'the existing session still works');

    // A session created while read-only (its owner, node 3, is alive).
    const late = new Browser();
    const lateSignIn = await signIn(late, await authorize(rp3, verifier), REDIRECT, { username: 'alice', password: PASSWORD }, cluster.url(3));
    assert.ok(lateSignIn.sawLoginPage);
    // Its code was issued by node 3 itself, so node 3 can still redeem it exactly once: users can sign in.
    const lateTokens = await oidc.authorizationCodeGrant(rp3, new URL(lateSignIn.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(lateTokens.id_token);

    // Credential changes are refused with a clear message while read-only.
    const carolBrowser = new Browser();
    const loginPage = await carolBrowser.follow(await authorize(rp3, verifier), undefined, 15, cluster.url(3));
    const change = await carolBrowser.post(new URL(formAction(loginPage.body, '/login'), loginPage.url).href, {
      csrf: hiddenField(loginPage.body, 'csrf'), username: 'carol', password: carolPassword,
    });
    assert.match(change.body, /Choose a new password/);
    const refused = await carolBrowser.post(new URL(formAction(change.body, '/password'), loginPage.url).href, {
      csrf: hiddenField(change.body, 'csrf'), new_password: 'a new passphrase for carol', confirm_password: 'a new passphrase for carol',
    });
    assert.equal(refused.status, 503);
    assert.match(refused.body, /read-only/);

    // Bring both back: quorum returns, and they report lbstatus OK only after catching up.
    await Promise.all([cluster.start(1), cluster.start(2)]);
    for (const i of [1, 2]) await waitFor(`node ${i} ready again`, async () => (await cluster.lbStatus(i)) === 200, 20_000);
    await waitFor('quorum again', async () => (await cluster.status(3)).ClusterStatus.state === 'quorum', 10_000);

    // The session created while they were down is held by them now: it survives the loss of its owner.
    await cluster.kill(3);
    for (const i of [1, 2]) {
      await waitFor(`node ${i} to see node 3 dead`, async () =>
        (await cluster.status(i)).ClusterStatus.members.find((m) => m.index === 3)?.state === 'dead', 10_000);
    }
    const rp1 = await cluster.rp(1, client.client_id, client.client_secret);
    const survived = await signIn(late, await authorize(rp1, verifier), REDIRECT, undefined, cluster.url(1));
    assert.equal(survived.sawLoginPage, false, 'the session created during read-only survived its owner');
  });
});
