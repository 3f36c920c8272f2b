// A console and three engines (node.configSource = console) as real processes: a client's redirect URI changed
// through the console's API is staged (engines keep the published one), and after publish every engine serves the
// new value; an engine SIGKILLed before a publish runs the new version when it comes back, before lbstatus is OK.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser } from './support/browser.js';
import { CONSOLE_INDEX, TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const OLD = 'http://127.0.0.1:5580/callback';
const NEW = 'http://127.0.0.1:5581/callback';
const NEWER = 'http://127.0.0.1:5582/callback';
const PASSWORD = 'correct horse battery staple';

describe('console: publish configuration to engines', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let client: { clientId: string; secret: string };

  before(async () => {
    cluster = await TestCluster.create({ size: 3, console: true });
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: PASSWORD, env: cluster.env() })).code, 0);
    await cluster.startAll();
    await cluster.waitReady();
    const created = await cluster.api('POST', '/admin/api/clients', { name: 'Wiki', redirectUris: [OLD] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    client = { clientId: created.body.client.clientId, secret: created.body.secret };
    const published = await cluster.api('POST', '/admin/api/config/publish');
    assert.equal(published.status, 200, JSON.stringify(published.body));
    assert.deepEqual(published.body.nodes.map((n: { ok: boolean }) => n.ok), [true, true, true]);
  });

  after(async () => { await cluster?.stop(); });

  async function authorizationUrl(node: number, redirectUri: string, verifier: string): Promise<string> {
    const rp = await cluster.rp(node, client.clientId, client.secret);
    return oidc.buildAuthorizationUrl(rp, {
      redirect_uri: redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
  }

  /** A full sign-in through engine `node` with `redirectUri`, tokens included. */
  async function signsIn(node: number, redirectUri: string): Promise<void> {
    const verifier = oidc.randomPKCECodeVerifier();
    const result = await signIn(new Browser(), await authorizationUrl(node, redirectUri, verifier), redirectUri,
      { username: 'alice', password: PASSWORD }, cluster.url(node));
    const tokens = await oidc.authorizationCodeGrant(await cluster.rp(node, client.clientId, client.secret), new URL(result.callbackUrl),
      { pkceCodeVerifier: verifier }, { redirect_uri: redirectUri } as never);
    assert.ok(tokens.id_token, `node ${node}`);
  }

  /** The authorization request with `redirectUri` is refused by engine `node` (unregistered redirect URI). */
  async function refuses(node: number, redirectUri: string): Promise<void> {
    const res = await new Browser().get(await authorizationUrl(node, redirectUri, oidc.randomPKCECodeVerifier()));
    assert.equal(res.status, 400, `node ${node} accepted ${redirectUri}`);
    assert.match(res.body, /return address|redirect_uri/);
  }

  it('stages a redirect URI change and serves it through every engine only after publish', async () => {
    const updated = await cluster.api('PUT', `/admin/api/clients/${client.clientId}`, { redirectUris: [NEW] });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.redirectUris, [NEW]);
    const diff = await cluster.api('GET', '/admin/api/config/diff');
    assert.deepEqual(diff.body.changes, [{ kind: 'client', id: client.clientId, change: 'modified', fields: ['redirectUris'] }]);
    for (const node of [1, 2, 3]) await refuses(node, NEW);

    const published = await cluster.api('POST', '/admin/api/config/publish');
    assert.equal(published.status, 200);
    assert.equal(published.body.changed, true);
    assert.deepEqual(published.body.nodes.map((n: { index: number; version: number }) => [n.index, n.version]),
      [[1, published.body.version], [2, published.body.version], [3, published.body.version]]);
    for (const node of [1, 2, 3]) {
      await refuses(node, OLD);
      await signsIn(node, NEW);
    }
    const config = await cluster.api('GET', '/admin/api/config');
    assert.equal(config.body.published.version, published.body.version);
    assert.ok(config.body.staged.modifiedAt);
    assert.equal(config.body.staged.modifiedBy, 'token');
    for (const node of [1, 2, 3]) {
      const row = config.body.nodes.find((n: { index: number }) => n.index === node);
      assert.equal(row.version, published.body.version, `node ${node} acknowledged`);
      assert.ok(row.replicatedAt);
    }
    // Nothing staged: publishing again changes nothing.
    const again = await cluster.api('POST', '/admin/api/config/publish');
    assert.equal(again.body.version, published.body.version);
    assert.equal(again.body.changed, false);
  });

  it('brings an engine killed before a publish to the new version before its lbstatus is OK', async () => {
    await cluster.kill(3);
    await waitFor('the console to see node 3 dead', async () =>
      (await cluster.status(CONSOLE_INDEX)).ClusterStatus.members.find((m) => m.index === 3)?.state === 'dead', 10_000);
    assert.equal((await cluster.api('PUT', `/admin/api/clients/${client.clientId}`, { redirectUris: [NEWER] })).status, 200);
    const published = await cluster.api('POST', '/admin/api/config/publish');
    assert.equal(published.status, 200);
    assert.deepEqual(published.body.nodes.map((n: { index: number }) => n.index), [1, 2], 'only the live engines were pushed to');

    const restarted = await cluster.start(3);
    // The version is switched to before the node even reports itself started, and lbstatus waits for both.
    const switched = restarted.logs.map((l) => { try { return JSON.parse(l) as { event?: string; version?: number }; } catch { return {}; } })
      .filter((e) => e.event === 'config.switched');
    assert.deepEqual(switched.map((e) => e.version), [published.body.version]);
    await waitFor('node 3 ready', async () => (await cluster.lbStatus(3)) === 200, 20_000);
    await refuses(3, NEW);
    await signsIn(3, NEWER);
    const info = await cluster.api('GET', '/admin/api/cluster');
    assert.equal(info.body.nodes.find((n: { index: number }) => n.index === 3).configVersion, published.body.version);
  });

  it('reports nodes, checks connectivity pair by pair, and takes one engine out for maintenance and back', async () => {
    const info = await cluster.api('GET', '/admin/api/cluster');
    assert.equal(info.status, 200);
    assert.equal(info.body.readOnly, false);
    assert.deepEqual(info.body.nodes.map((n: { index: number; health: string }) => [n.index, n.health]).sort((a: number[], b: number[]) => a[0]! - b[0]!),
      [[1, 'up'], [2, 'up'], [3, 'up'], [CONSOLE_INDEX, 'self']]);
    for (const engine of info.body.nodes.filter((n: { role: string }) => n.role === 'engine')) {
      assert.equal(engine.components?.store?.status, 'OK', `engine ${engine.index} reports its components`);
    }
    const connectivity = await cluster.api('GET', '/admin/api/cluster/connectivity');
    assert.equal(connectivity.body.pairs.length, 12, 'every ordered pair of four members');
    assert.ok(connectivity.body.pairs.every((p: { ok: boolean }) => p.ok), JSON.stringify(connectivity.body.pairs));

    const off = await cluster.api('POST', '/admin/api/nodes/2/sync', { enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const lb = await fetch(`${cluster.url(2)}/status/v2/lbstatus`);
    assert.equal(lb.status, 503);
    assert.match(await lb.text(), /maintenance/);
    const during = await cluster.api('GET', '/admin/api/cluster');
    assert.equal(during.body.nodes.find((n: { index: number }) => n.index === 2).syncEnabled, false);
    assert.equal((await cluster.api('POST', '/admin/api/nodes/2/sync', { enabled: 'no' })).status, 400);
    assert.equal((await cluster.api('POST', '/admin/api/nodes/2/sync', { enabled: true })).status, 200);
    await waitFor('node 2 back in the pool', async () => (await cluster.lbStatus(2)) === 200, 10_000);

    const stats = await cluster.api('GET', '/admin/api/stats');
    const node1 = stats.body.nodes.find((n: { index: number }) => n.index === 1);
    assert.ok(node1.samples.length >= 500);
    assert.ok(node1.samples.reduce((sum: number, s: { signIns: number }) => sum + s.signIns, 0) >= 1, 'node 1 counted its sign-ins');
  });

  it('refuses bad input with the field named, unknown records with 404, and non-JSON with 415', async () => {
    const bad = await cluster.api('PUT', `/admin/api/clients/${client.clientId}`, { redirectUris: ['javascript:alert(1)'] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /redirectUris/);
    assert.equal((await cluster.api('PUT', `/admin/api/clients/${client.clientId}`, { secret: 'x' })).status, 400);
    assert.equal((await cluster.api('GET', '/admin/api/clients/nobody')).status, 404);
    assert.equal((await cluster.api('PUT', '/admin/api/settings', { session: { maxPerUser: -1 } })).body.message.includes('session.maxPerUser'), true);
    const text = await fetch(`${cluster.url(CONSOLE_INDEX)}/admin/api/clients`, {
      method: 'POST', headers: { authorization: 'Bearer test-admin-api-token-0123456789abcdef', 'content-type': 'text/plain' }, body: 'x',
    });
    assert.equal(text.status, 415);
    const audit = await cluster.api('GET', '/admin/api/audit?limit=5');
    assert.ok(audit.body.entries.some((e: { action: string }) => e.action === 'config.published'));
  });
  it('switches OpenID Connect off and on for every engine; SAML keeps only what its sign-ins need', async () => {
    const setProtocols = async (oidc: boolean) => {
      assert.equal((await cluster.api('PUT', '/admin/api/settings', { protocols: { oidc, saml: true } })).status, 200);
      assert.equal((await cluster.api('POST', '/admin/api/config/publish')).status, 200);
    };
    await setProtocols(false);
    for (const node of [1, 2, 3]) {
      assert.equal((await fetch(`${cluster.url(node)}/.well-known/openid-configuration`)).status, 404, `discovery off on ${node}`);
      assert.equal((await fetch(`${cluster.url(node)}/token`, { method: 'POST' })).status, 404);
      assert.equal((await fetch(`${cluster.url(node)}/saml/metadata`)).status, 200);
    }
    // An OIDC client's authorization request is refused; the SAML bridge's own is not (it redirects to sign-in).
    assert.equal((await fetch(`${cluster.url(1)}/auth?client_id=${client.clientId}&response_type=code&scope=openid`, { redirect: 'manual' })).status, 404);
    await setProtocols(true);
    assert.equal((await fetch(`${cluster.url(2)}/.well-known/openid-configuration`)).status, 200);
  });
  it('applies a published accent colour to the sign-in pages of every engine', async () => {
    assert.equal((await cluster.api('PUT', '/admin/api/settings', { branding: { accentColor: '#aa3300' } })).status, 200);
    assert.equal((await cluster.api('POST', '/admin/api/config/publish')).status, 200);
    for (const node of [1, 2, 3]) {
      const css = await (await fetch(`${cluster.url(node)}/assets/brand.css`)).text();
      assert.match(css, /--accent: #aa3300/, `engine ${node}`);
    }
    assert.equal((await cluster.api('PUT', '/admin/api/settings', { branding: { accentColor: 'red;}body{display:none' } })).status, 400);
  });
});
