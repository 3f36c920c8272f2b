// Stateless nodes on real engines: three `cohort start` processes share PostgreSQL (users, clients, keys) and Redis
// (every state service), with no back channel between them. A round-robin balancer is simulated by sending each
// request to the next node. Stopping all three and starting them again loses no session; a Redis restart mid-run
// gives clean 503s, never a crash, and service resumes by itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, roundRobin } from './support/browser.js';
import { freePort } from './support/cluster.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from './support/postgres.js';
import { rpVia } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';
import { RedisTestServer, redisServerMissing } from '../src/state/redis/test-server.js';

const REDIRECT = 'http://127.0.0.1:5600/callback';
const PASSWORD = 'a good long password';
const SERVICES = ['SESSIONS', 'INTER_REQUEST', 'TOKENS', 'REPLAY', 'ARTIFACTS', 'REGISTRY', 'REVOCATIONS', 'LOGIN_FAILURES'];
const skip = postgresSkipReason() ?? redisServerMissing();

describe('stateless nodes on Redis and PostgreSQL', { timeout: 180_000, skip: skip ?? false }, () => {
  let postgres: PostgresServer;
  let redis: RedisTestServer;
  let env: NodeJS.ProcessEnv;
  let issuer: string;
  const dirs = [tempDir(), tempDir(), tempDir()];
  const nodes: CohortProcess[] = [];
  let client: { client_id: string; client_secret: string };

  async function startAll(): Promise<void> {
    nodes.length = 0;
    nodes.push(...await Promise.all(dirs.map((d, i) => startCohort({ dataDir: d.path, timeoutMs: 30_000, env: { ...env, COHORT_NODE_INDEX: String(i + 1), COHORT_NODE_NAME: `node-${i + 1}` } }))));
    // As a balancer would: send traffic only once lbstatus says the node is ready (connected to Redis).
    for (const node of nodes) await waitFor(`${node.url} ready`, async () => (await fetch(`${node.url}/status/v2/lbstatus`)).status === 200, 15_000);
  }

  before(async () => {
    postgres = await startPostgres();
    redis = await RedisTestServer.start();
    const db = await postgres.createDatabase();
    issuer = `http://127.0.0.1:${await freePort()}`;
    env = {
      COHORT_STORE_BACKEND: 'postgres', COHORT_STORE_POSTGRES_URL: db.url, COHORT_STATE_REDIS_URL: redis.url,
      COHORT_HTTP_ISSUER: issuer, COHORT_ADMIN_PASSWORD: 'admin-password-for-tests',
      ...Object.fromEntries(SERVICES.map((s) => [`COHORT_STATE_BACKEND_${s}`, 'redis'])),
    };
    const cli = { ...env, COHORT_DATA_DIR: dirs[0]!.path };
    assert.equal((await runCli(['db', 'migrate'], { env: cli })).code, 0);
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--groups', 'staff'], { stdin: PASSWORD, env: cli })).code, 0);
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env: cli })).stdout) as typeof client;
    await startAll();
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await redis?.dispose();
    await postgres?.stop();
    for (const d of dirs) d.remove();
  });

  /** Round robin: every request of the flow goes to the next node, the code redemption too. */
  async function roundRobinSignIn(browser: Browser, credentials?: { username: string; password: string }) {
    const rp = await rpVia(nodes[0]!.url, issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid groups', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const restore = roundRobin(browser, issuer, () => nodes.map((n) => n.url));
    try {
      const result = await signIn(browser, url, REDIRECT, credentials);
      if (new URL(result.callbackUrl).searchParams.get('error')) throw new Error(`sign-in failed: ${result.callbackUrl}`);
      const tokenRp = await rpVia(nodes[Math.floor(Math.random() * nodes.length)]!.url, issuer, client.client_id, client.client_secret);
      const tokens = await oidc.authorizationCodeGrant(tokenRp, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
      return { ...result, tokens };
    } finally {
      restore();
    }
  }

  it('signs in round-robin, SSO through every node, and keeps the session across a restart of all nodes', async () => {
    const browser = new Browser();
    const first = await roundRobinSignIn(browser, { username: 'alice', password: PASSWORD });
    assert.ok(first.sawLoginPage);
    assert.deepEqual(first.tokens.claims()!.groups, ['staff']);
    for (let i = 0; i < 3; i++) assert.equal((await roundRobinSignIn(browser)).sawLoginPage, false, 'SSO');

    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    await startAll();
    const after = await roundRobinSignIn(browser);
    assert.equal(after.sawLoginPage, false, 'the session survived a full restart of every node');
  });

  it('answers cleanly while Redis is down and recovers by itself', async () => {
    const browser = new Browser();
    await roundRobinSignIn(browser, { username: 'alice', password: PASSWORD });
    await redis.stop();
    for (const node of nodes) {
      await waitFor(`node lbstatus 503 at ${node.url}`, async () => (await fetch(`${node.url}/status/v2/lbstatus`)).status === 503, 10_000);
      const page = await browser.get(`${node.url}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr&code_challenge_method=S256`);
      assert.ok(page.status === 503 || (page.status >= 300 && page.status < 500), `a clean answer, got ${page.status}`);
      assert.equal(node.child.exitCode, null, 'the node is still running');
    }
    await redis.restart();
    for (const node of nodes) {
      await waitFor(`node lbstatus 200 at ${node.url}`, async () => (await fetch(`${node.url}/status/v2/lbstatus`)).status === 200, 15_000);
    }
    // This Redis keeps nothing on disk, so sessions from before the restart are gone; signing in works again.
    const again = await roundRobinSignIn(new Browser(), { username: 'alice', password: PASSWORD });
    assert.ok(again.tokens.id_token);
  });
});
