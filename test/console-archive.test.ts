// A configuration archive exported from one cluster's data directory imports into a fresh one, which then serves
// the same sign-ins: the same client id and secret work, and its JWKS publishes the same signing key ids.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { Browser } from './support/browser.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { rpVia } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5590/callback';
const PASSWORD = 'correct horse battery staple';

describe('configuration archive between clusters', { timeout: 120_000 }, () => {
  const source = tempDir('cohort-source-');
  const target = tempDir('cohort-target-');
  const files = tempDir('cohort-archive-');
  const archive = join(files.path, 'config.json');
  let node: CohortProcess | undefined;
  let client: { client_id: string; client_secret: string };
  let sourceKids: string[];

  before(async () => {
    assert.equal((await runCli(['cluster', 'init', '--data-dir', source.path])).code, 0);
    const created = await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json', '--data-dir', source.path]);
    client = JSON.parse(created.stdout) as typeof client;
    // The source's keys are made at its first start; a short-lived node makes them and reports its JWKS.
    const first = await startCohort({ dataDir: source.path, env: { COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' } });
    try {
      await waitFor('the source node ready', async () => (await fetch(`${first.url}/status/v2/lbstatus`)).status === 200, 20_000);
      sourceKids = ((await (await fetch(`${first.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();
    } finally {
      await first.stop();
    }
  });

  after(async () => {
    await node?.stop('SIGKILL');
    for (const d of [source, target, files]) d.remove();
  });

  it('exports, refuses a tampered copy or another cluster secret, and imports into a fresh data directory', async () => {
    const exported = await runCli(['config', 'export', '--out', archive, '--data-dir', source.path]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /Exported 1 client/);
    const text = readFileSync(archive, 'utf8');
    assert.ok(!text.includes('"d"'), 'no private key member in clear');
    assert.ok(!text.includes(client.client_secret));

    const tampered = join(files.path, 'tampered.json');
    writeFileSync(tampered, text.replace(REDIRECT, 'http://127.0.0.1:6666/callback'));
    const refused = await runCli(['config', 'import', '--file', tampered, '--data-dir', target.path, '--secret-file', join(source.path, 'cluster-secret')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /archive was altered or made with another cluster secret/);
    const otherSecret = tempDir('cohort-other-');
    try {
      assert.equal((await runCli(['cluster', 'init', '--data-dir', otherSecret.path])).code, 0);
      const wrong = await runCli(['config', 'import', '--file', archive, '--data-dir', target.path, '--secret-file', join(otherSecret.path, 'cluster-secret')]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /another cluster secret/);
    } finally {
      otherSecret.remove();
    }

    const imported = await runCli(['config', 'import', '--file', archive, '--data-dir', target.path, '--secret-file', join(source.path, 'cluster-secret')]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /integrity verified/);
    // Idempotent: a second import changes nothing and succeeds.
    const again = await runCli(['config', 'import', '--file', archive, '--data-dir', target.path, '--secret-file', join(source.path, 'cluster-secret')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 new key/);
  });

  it('serves the same sign-ins from the imported data directory', async () => {
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--data-dir', target.path], { stdin: PASSWORD })).code, 0);
    node = await startCohort({ dataDir: target.path, env: { COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' } });
    await waitFor('the imported node ready', async () => (await fetch(`${node!.url}/status/v2/lbstatus`)).status === 200, 20_000);
    const jwks = (await (await fetch(`${node.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), sourceKids);

    const rp = await rpVia(node.url, node.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const result = await signIn(new Browser(), url, REDIRECT, { username: 'alice', password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(tokens.id_token);
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string };
    assert.ok(sourceKids.includes(header.kid), 'signed with a key of the source cluster');
  });
});
