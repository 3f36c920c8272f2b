// preferredNodes splits sessions into subclusters: nodes 1-2 share theirs, nodes 3-4 theirs, and a session signed in
// through node 1 is never copied to node 3 or 4, while SSO works across its own subcluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser } from './support/browser.js';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5580/callback';
type Held = Record<string, { owner: number; replica: number }>;

describe('subclusters through preferredNodes', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    cluster = await TestCluster.create({
      size: 4,
      // Three failover peers: without the subclusters every node would hold a copy of every session.
      env: { COHORT_CLUSTER_FAILOVER_PEERS: '3' },
      envFor: (i) => ({ COHORT_STATE_PREFERRED_NODES_SESSIONS: i <= 2 ? '1,2' : '3,4' }),
    });
    const env = cluster.env();
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: 'a good long password', env })).code, 0);
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env })).stdout) as typeof client;
    await cluster.startAll();
    for (const i of [1, 2, 3, 4]) await waitFor(`node ${i} ready`, async () => (await cluster.lbStatus(i)) === 200, 20_000);
  });

  after(async () => { await cluster?.stop(); });

  async function sessionsHeld(i: number): Promise<number> {
    const held = (await cluster.status(i)).State as Held;
    return held.sessions!.owner + held.sessions!.replica;
  }

  it('keeps a session inside its subcluster', async () => {
    const rp = await cluster.rp(1, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const browser = new Browser();
    const first = await signIn(browser, url, REDIRECT, { username: 'alice', password: 'a good long password' }, cluster.url(1));
    assert.ok(first.sawLoginPage);
    const sso = await signIn(browser, url, REDIRECT, undefined, cluster.url(2));
    assert.equal(sso.sawLoginPage, false, 'SSO within the subcluster');

    assert.ok(await sessionsHeld(1) >= 1, 'node 1 holds the session');
    assert.ok(await sessionsHeld(2) >= 1, 'node 2 holds its copy');
    assert.equal(await sessionsHeld(3), 0, 'node 3 holds no session');
    assert.equal(await sessionsHeld(4), 0, 'node 4 holds no session');
  });
});
