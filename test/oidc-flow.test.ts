// End to end against a real `cohort start` process: a confidential client signs a user in with authorization code +
// PKCE through the sign-in pages, then refreshes, reads userinfo, introspects, revokes, and logs out (RP-initiated),
// which delivers a back-channel logout token to the client. Also a public client and client_credentials.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { discover, jwtPayload, logoutReceiver, type LogoutReceiver } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5555/callback';
const POST_LOGOUT = 'http://127.0.0.1:5555/signed-out';

describe('OIDC end to end (single node)', () => {
  const dir = tempDir();
  let node: CohortProcess;
  let receiver: LogoutReceiver;
  let client: { client_id: string; client_secret: string };
  let publicClientId: string;

  before(async () => {
    receiver = await logoutReceiver();
    const env = { COHORT_DATA_DIR: dir.path };
    const add = await runCli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.org',
      '--display-name', 'Alice Liddell', '--groups', 'staff,engineering'], { stdin: 'correct horse battery staple\n', env });
    assert.equal(add.code, 0, add.stderr);
    const created = await runCli(['clients', 'add', '--name', 'Wiki', '--redirect-uri', REDIRECT,
      '--post-logout-redirect-uri', POST_LOGOUT, '--backchannel-logout-uri', receiver.url, '--json'], { env });
    assert.equal(created.code, 0, created.stderr);
    client = JSON.parse(created.stdout) as typeof client;
    const pub = await runCli(['clients', 'add', '--public', '--redirect-uri', REDIRECT, '--json'], { env });
    assert.equal(pub.code, 0, pub.stderr);
    publicClientId = (JSON.parse(pub.stdout) as { client_id: string }).client_id;
    node = await startCohort({ dataDir: dir.path, env: { COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' } });
  });

  after(async () => {
    await node?.stop();
    await receiver?.close();
    dir.remove();
  });

  it('publishes discovery and a JWKS with RS256 and ES256 keys', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, node.issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    const jwks = await (await fetch(meta.jwks_uri!)).json() as { keys: Array<{ alg: string; d?: string }> };
    assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'private key material must never be published');
  });

  it('signs in with code + PKCE, refreshes with rotation, reads userinfo, introspects, revokes, logs out', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile email groups', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const result = await signIn(browser, authUrl.href, REDIRECT, { username: 'alice', password: 'correct horse battery staple' });
    assert.ok(result.sawLoginPage);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier, expectedState: state });
    const claims = tokens.claims()!;
    assert.equal(claims.name, 'Alice Liddell');
    assert.equal(claims.email, 'alice@example.org');
    assert.deepEqual(claims.groups, ['staff', 'engineering']);
    assert.ok(tokens.refresh_token, 'a refresh token is issued');
    // IDs the cluster routes carry the owning node's index (0 for a standalone node).
    assert.match(tokens.access_token, /\.0$/);
    assert.match(tokens.refresh_token!, /\.0$/);
    const sessionCookie = browser.cookies().find((c) => c.name === 'cohort_session');
    assert.match(sessionCookie?.value ?? '', /\.0$/);

    // The session cookie was renewed at sign-in: SSO works for the next authorization without a sign-in page.
    const again = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT);
    assert.equal(again.sawLoginPage, false);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(userinfo.preferred_username, 'alice');
    assert.deepEqual(userinfo.groups, ['staff', 'engineering']);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (err: Error & { error?: string }) => err.error === 'invalid_grant');
    // Reusing a rotated refresh token revokes the whole grant (RFC 9700 refresh token reuse detection).
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);

    const fresh = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid profile', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT);
    const second = await oidc.authorizationCodeGrant(config, new URL(fresh.callbackUrl), { pkceCodeVerifier: verifier, expectedState: state });
    const active = await oidc.tokenIntrospection(config, second.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, client.client_id);
    await oidc.tokenRevocation(config, second.access_token);
    assert.equal((await oidc.tokenIntrospection(config, second.access_token)).active, false);

    // RP-initiated logout through the logout page; the client's back-channel endpoint receives a signed logout token.
    const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: second.id_token!, post_logout_redirect_uri: POST_LOGOUT });
    const page = await browser.get(endSession.href);
    assert.equal(page.status, 200);
    const done = await browser.post(new URL(formAction(page.body, '/session/end/confirm'), node.issuer).href, {
      xsrf: hiddenField(page.body, 'xsrf'), logout: 'yes',
    });
    assert.equal(done.status, 303);
    assert.ok(done.location?.startsWith(POST_LOGOUT), `redirected to ${done.location}`);
    const logoutToken = await waitFor('back-channel logout token', () => receiver.tokens[0]).catch((err: Error) => { throw new Error(`${err.message}\n${node.logs.slice(-8).join('\n')}`); });
    const payload = jwtPayload(logoutToken);
    assert.equal(payload.iss, node.issuer);
    assert.equal(payload.sub, claims.sub);
    assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
    const [headerB64, bodyB64, sigB64] = logoutToken.split('.');
    const header = JSON.parse(Buffer.from(headerB64!, 'base64url').toString()) as { kid: string; alg: string };
    const jwks = await (await fetch(config.serverMetadata().jwks_uri!)).json() as { keys: Array<{ kid: string }> };
    const key = createPublicKey({ key: jwks.keys.find((k) => k.kid === header.kid) as never, format: 'jwk' });
    const signature = Buffer.from(sigB64!, 'base64url');
    assert.ok(verifySignature(header.alg === 'ES256' ? 'sha256' : 'RSA-SHA256', Buffer.from(`${headerB64}.${bodyB64}`),
      header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature), 'logout token signature verifies against the JWKS');

    // After logout the browser has no SSO session any more.
    const afterLogout = await browser.follow(authUrl.href, (u) => u.startsWith(REDIRECT));
    assert.ok(afterLogout.body.includes('name="password"'), 'sign-in page shown after logout');
  });

  it('lets a public client sign in with PKCE and no secret', async () => {
    const config = await discover(node.issuer, publicClientId);
    const verifier = oidc.randomPKCECodeVerifier();
    const browser = new Browser();
    const result = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT, { username: 'alice', password: 'correct horse battery staple' });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(tokens.id_token);
  });

  it('issues client_credentials tokens that introspect as active', async () => {
    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const tokens = await oidc.clientCredentialsGrant(config);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true);
    const wrong = await discover(node.issuer, client.client_id, 'not-the-secret');
    await assert.rejects(oidc.clientCredentialsGrant(wrong), (err: Error & { error?: string }) => err.error === 'invalid_client');
  });

  it('reports status, lbstatus and metrics', async () => {
    const status = await (await fetch(`${node.url}/status/v2`)).json() as { ClusterStatus: { readOnly: boolean }; components: Record<string, { status: string }> };
    assert.equal(status.ClusterStatus.readOnly, false);
    assert.equal(status.components.store?.status, 'OK');
    const lb = await fetch(`${node.url}/status/v2/lbstatus`);
    assert.equal(lb.status, 200);
    assert.equal((await lb.text()).trim(), 'OK');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, /cohort_signins_total\{result="ok"\} [1-9]/);
    assert.match(metrics, /cohort_tokens_issued_total\{grant="client_credentials"\} [1-9]/);
  });

  it('never writes secrets to its logs', () => {
    const all = node.logs.join('\n');
    for (const secret of ['correct horse battery staple', client.client_secret, 'admin-password-for-tests']) {
      assert.ok(!all.includes(secret), 'a secret appeared in the logs');
    }
  });
});
