// End to end: with state.backend.sessions = postgres, a browser's SSO session outlives its node. One `cohort
// start` signs a user in through the pages, is stopped (SIGTERM), and a new node on the same database gives the same
// browser a code without a sign-in page. Every other state service stays local, so only the sessions carry over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser } from './support/browser.js';
import { freePort } from './support/cluster.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from './support/postgres.js';
import { rpVia } from './support/rp.js';
import { signIn } from './support/signin.js';

const REDIRECT = 'http://127.0.0.1:5601/callback';
const PASSWORD = 'a good long password';
const skip = postgresSkipReason() ?? false;

describe('sessions in PostgreSQL survive a node restart', { timeout: 120_000, skip }, () => {
  let postgres: PostgresServer;
  let db: { name: string; url: string };
  let env: NodeJS.ProcessEnv;
  let issuer: string;
  let client: { client_id: string; client_secret: string };
  const dirs = [tempDir(), tempDir()];
  const nodes: CohortProcess[] = [];

  before(async () => {
    postgres = await startPostgres();
    db = await postgres.createDatabase();
    // A fixed issuer: the second node listens on another port, yet must be the same OpenID Provider.
    issuer = `http://127.0.0.1:${await freePort()}`;
    env = {
      COHORT_STORE_BACKEND: 'postgres', COHORT_STORE_POSTGRES_URL: db.url, COHORT_STATE_BACKEND_SESSIONS: 'postgres',
      COHORT_HTTP_ISSUER: issuer, COHORT_ADMIN_PASSWORD: 'admin-password-for-tests',
    };
    const cli = { ...env, COHORT_DATA_DIR: dirs[0]!.path };
    const migrated = await runCli(['db', 'migrate'], { env: cli });
    assert.equal(migrated.code, 0, migrated.stderr);
    const tables = await postgres.query("SELECT 1 FROM pg_tables WHERE tablename = 'sessions'", [], db.name);
    assert.equal(tables.rowCount, 1, '`cohort db migrate` creates the sessions table');
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: PASSWORD, env: cli })).code, 0);
    const added = await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env: cli });
    assert.equal(added.code, 0, added.stderr);
    client = JSON.parse(added.stdout) as typeof client;
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await postgres?.destroy();
    for (const d of dirs) d.remove();
  });

  async function authorize(node: CohortProcess, browser: Browser, credentials?: { username: string; password: string }) {
    const rp = await rpVia(node.url, issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const result = await signIn(browser, url, REDIRECT, credentials, node.url);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    return { ...result, sub: tokens.claims()?.sub };
  }

  it('a browser signed in on a stopped node is still signed in on the node that replaces it', async () => {
    const browser = new Browser();
    nodes.push(await startCohort({ dataDir: dirs[0]!.path, timeoutMs: 30_000, env }));
    const first = await authorize(nodes[0]!, browser, { username: 'alice', password: PASSWORD });
    assert.ok(first.sawLoginPage, 'the first authorization signs in through the pages');
    const stored = await postgres.query<{ user_id: string }>('SELECT user_id FROM sessions', [], db.name);
    assert.deepEqual(stored.rows.map((r) => r.user_id), [first.sub], 'the session is a row in PostgreSQL');

    await nodes[0]!.stop('SIGTERM');
    assert.equal(nodes[0]!.child.exitCode, 0, `the node stops cleanly on SIGTERM:\n${nodes[0]!.stderr.join('')}`);
    nodes.push(await startCohort({ dataDir: dirs[1]!.path, timeoutMs: 30_000, env }));

    // No credentials: signIn fails the test if the new node shows a page with a password field.
    const second = await authorize(nodes[1]!, browser);
    assert.equal(second.sawLoginPage, false);
    assert.equal(second.sub, first.sub, 'the same user, from the session the first node stored');
  });
});
