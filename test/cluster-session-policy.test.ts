// Cluster-wide session policy on three real nodes: the concurrent-session limit (delete-oldest with back-channel
// logout, then refuse), admin revocation and kill-all through any node, the logged-on list, "sign out of all my
// sessions", lockout counted across nodes, and the revocation list copied to a restarted node before lbstatus OK.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { jwtPayload, logoutReceiver, type LogoutReceiver } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5590/callback';
const PASSWORD = 'a good long password';
const API_TOKEN = randomBytes(32).toString('base64url');

describe('cluster-wide session policy', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let receiver: LogoutReceiver;
  let client: { client_id: string; client_secret: string };
  const subs = new Map<string, string>();

  before(async () => {
    receiver = await logoutReceiver();
    cluster = await TestCluster.create({ size: 3, env: {
      COHORT_SESSION_MAX_PER_USER: '1', COHORT_SESSION_LIMIT_ACTION: 'delete-oldest',
      COHORT_ADMIN_API_TOKEN: API_TOKEN, COHORT_AUTH_LOCKOUT_MAX_FAILURES_PER_USER: '3',
    } });
    const env = cluster.env();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      assert.equal((await runCli(['users', 'add', name, '--password-stdin'], { stdin: PASSWORD, env })).code, 0);
    }
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--backchannel-logout-uri', receiver.url, '--json'], { env })).stdout) as typeof client;
    await cluster.startAll();
    await cluster.waitReady();
  });

  after(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  async function authUrl(node: number): Promise<string> {
    const rp = await cluster.rp(node, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    return oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
  }

  async function login(browser: Browser, node: number, username: string) {
    const result = await signIn(browser, await authUrl(node), REDIRECT, { username, password: PASSWORD }, cluster.url(node));
    assert.ok(result.sawLoginPage);
    return result;
  }

  /** Whether the browser still has SSO through `node` (no sign-in page). */
  async function hasSession(browser: Browser, node: number): Promise<boolean> {
    const page = await browser.follow(await authUrl(node), (u) => u.startsWith(REDIRECT), 15, cluster.url(node));
    return !page.body.includes('name="password"');
  }

  async function admin(node: number, method: string, path: string) {
    const res = await fetch(`${cluster.url(node)}${path}`, { method, headers: { authorization: `Bearer ${API_TOKEN}`, accept: 'application/json' } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  }

  it('limit 1, delete-oldest: a second sign-in on node 3 ends the first everywhere and notifies its client', async () => {
    const first = new Browser();
    await login(first, 1, 'alice');
    assert.equal(await hasSession(first, 2), true);
    const before = receiver.tokens.length;
    await login(new Browser(), 3, 'alice');
    assert.equal(await hasSession(first, 2), false, 'the first session is dead through node 2');
    const token = await waitFor('back-channel logout for the ended session', () => receiver.tokens[before]);
    subs.set('alice', String(jwtPayload(token).sub));
    assert.ok(jwtPayload(token).events);
  });

  it('lists sessions created on nodes 1 and 2 through node 3, with owner, source and clients', async () => {
    await login(new Browser(), 1, 'bob');
    await login(new Browser(), 2, 'carol');
    const list = await admin(3, 'GET', '/admin/api/sessions?limit=100');
    assert.equal(list.status, 200);
    const items = list.body.items as Array<{ user: string; node: number; source: string; clients: Array<{ clientId: string }>; started: string }>;
    const bob = items.find((s) => s.user === 'bob');
    const carol = items.find((s) => s.user === 'carol');
    assert.equal(bob?.node, 1);
    assert.equal(carol?.node, 2);
    assert.equal(bob?.source, '127.0.0.1');
    assert.ok(bob?.started);
    assert.deepEqual(bob?.clients.map((c) => c.clientId), [client.client_id]);
    const filtered = await admin(3, 'GET', '/admin/api/sessions?user=carol');
    assert.deepEqual((filtered.body.items as Array<{ user: string }>).map((s) => s.user), ['carol']);
  });

  it('kills a session through node 2 and it is refused through nodes 1 and 3 within a second', async () => {
    const browser = new Browser();
    await login(browser, 1, 'dave');
    const list = await admin(2, 'GET', '/admin/api/sessions?user=dave');
    const id = (list.body.items as Array<{ id: string }>)[0]!.id;
    const killed = await admin(2, 'DELETE', `/admin/api/sessions/${id}`);
    assert.equal(killed.status, 200);
    const started = Date.now();
    assert.equal(await hasSession(browser, 1), false);
    assert.equal(await hasSession(browser, 3), false);
    assert.ok(Date.now() - started < 1_000, 'refused everywhere within 1 s');
  });

  it('kill-all for a user signs them out everywhere; unauthenticated calls are refused', async () => {
    const browser = new Browser();
    await login(browser, 3, 'erin');
    assert.equal((await fetch(`${cluster.url(1)}/admin/api/sessions`)).status, 401);
    const wrong = await fetch(`${cluster.url(1)}/admin/api/sessions`, { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const notAdmin = await fetch(`${cluster.url(2)}/admin/api/sessions`, { headers: basic('bob', PASSWORD) });
    assert.equal(notAdmin.status, 403, 'an account without the admin role is refused');
    const asAdmin = await fetch(`${cluster.url(2)}/admin/api/sessions?user=erin`, { headers: basic('admin', 'admin-password-for-tests') });
    assert.equal(asAdmin.status, 200, 'the administrator account may call the API');
    // The log line reaches us through the child's stdout pipe, a moment after the response.
    await waitFor('the call to be audit-logged with who made it', () => [...cluster.nodes.values()].flatMap((n) => n.logs)
      .some((l) => l.includes('"event":"admin.sessions_listed"') && l.includes('"actor":"admin"')), 5_000);
    const killed = await admin(1, 'DELETE', '/admin/api/users/erin/sessions');
    assert.equal(killed.status, 200);
    assert.equal(killed.body.killed, 1);
    for (const node of [1, 2, 3]) assert.equal(await hasSession(browser, node), false, `erin is signed out through node ${node}`);
  });

  it('locks an account after failures spread over all three nodes', async () => {
    for (const node of [1, 2, 3]) {
      const browser = new Browser();
      const page = await browser.follow(await authUrl(node), undefined, 15, cluster.url(node));
      const res = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, { csrf: hiddenField(page.body, 'csrf'), username: 'carol', password: 'wrong' });
      assert.equal(res.status, 401);
    }
    const browser = new Browser();
    const page = await browser.follow(await authUrl(1), undefined, 15, cluster.url(1));
    const locked = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, { csrf: hiddenField(page.body, 'csrf'), username: 'carol', password: PASSWORD });
    assert.equal(locked.status, 429);
  });

  it('a restarted node holds the full revocation list before its lbstatus is OK', async () => {
    const counts = async (i: number) => ((await cluster.status(i)).State as Record<string, { owner: number; replica: number }>).revocations!;
    const expected = (await counts(1)).owner;
    assert.ok(expected >= 3, `revocations so far: ${expected}`);
    await cluster.kill(2);
    const node = await cluster.start(2);
    await waitFor('node 2 lbstatus OK', async () => (await fetch(`${node.url}/status/v2/lbstatus`)).status === 200, 20_000);
    assert.ok((await counts(2)).owner >= expected, 'the restarted node copied every revocation');
  });

  it('limit 2, refuse: a third sign-in is refused with the message; "sign out of all my sessions" ends both', async () => {
    await cluster.killAll();
    cluster.setEnv({ COHORT_SESSION_MAX_PER_USER: '2', COHORT_SESSION_LIMIT_ACTION: 'refuse', COHORT_SESSION_ALLOW_LOGOUT_ALL: 'true' });
    await cluster.startAll();
    await cluster.waitReady();
    const first = new Browser();
    const second = new Browser();
    await login(first, 1, 'bob');
    await login(second, 2, 'bob');
    const third = new Browser();
    const page = await third.follow(await authUrl(3), undefined, 15, cluster.url(3));
    const refused = await third.post(new URL(formAction(page.body, '/login'), page.url).href, { csrf: hiddenField(page.body, 'csrf'), username: 'bob', password: PASSWORD });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /already signed in on 2 devices/);
    assert.equal(await hasSession(first, 2), true, 'the existing sessions are untouched');

    const logout = await first.get(`${cluster.url(3)}/session/end?client_id=${encodeURIComponent(client.client_id)}`);
    assert.equal(logout.status, 200);
    assert.match(logout.body, /Sign out of all my sessions \(2\)/);
    const done = await first.post(`${cluster.url(3)}/logout/all`, { token: hiddenField(logout.body, 'token') });
    assert.equal(done.status, 200);
    assert.match(done.body, /signed out of all 2 of your sessions/);
    assert.equal(await hasSession(second, 1), false, 'the other browser is signed out too');
    assert.equal(await hasSession(first, 2), false);
    const replay = await first.post(`${cluster.url(1)}/logout/all`, { token: hiddenField(logout.body, 'token') });
    assert.equal(replay.status, 400, 'the offer works once');
  });

  it('limit 1, refuse, and a revocation cap of 3: the oldest revocations go first, the newest still hold', async () => {
    await cluster.killAll();
    cluster.setEnv({ COHORT_SESSION_MAX_PER_USER: '1', COHORT_SESSION_LIMIT_ACTION: 'refuse', COHORT_STATE_LOCAL_MAX_REVOCATIONS: '3' });
    await cluster.startAll();
    await cluster.waitReady();
    const first = new Browser();
    await login(first, 1, 'bob');
    const second = new Browser();
    const page = await second.follow(await authUrl(3), undefined, 15, cluster.url(3));
    const refused = await second.post(new URL(formAction(page.body, '/login'), page.url).href, { csrf: hiddenField(page.body, 'csrf'), username: 'bob', password: PASSWORD });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /already signed in on 1 device,/);

    // Five sessions ended by the administrator: five revocations, of which every node keeps the newest three.
    const browsers: Browser[] = [];
    for (const name of ['alice', 'carol', 'dave', 'erin']) {
      const b = new Browser();
      await login(b, 2, name);
      browsers.push(b);
      assert.equal((await admin(2, 'DELETE', `/admin/api/users/${name}/sessions`)).status, 200);
    }
    assert.equal((await admin(3, 'DELETE', '/admin/api/users/bob/sessions')).status, 200);
    for (const node of [1, 2, 3]) {
      const held = ((await cluster.status(node)).State as Record<string, { owner: number }>).revocations!.owner;
      assert.equal(held, 3, `node ${node} keeps exactly the cap`);
    }
    assert.equal(await hasSession(first, 1), false, 'the newest revoked session stays refused');
    for (const b of browsers) assert.equal(await hasSession(b, 3), false, 'ended sessions stay ended after their revocation aged out');
  });
});
