// First start of an empty data directory: the generated one-time admin password is printed once (never logged),
// works exactly once, and must be replaced at the first sign-in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { signIn } from './support/signin.js';

const REDIRECT = 'http://127.0.0.1:5557/callback';

describe('first administrator', () => {
  const dir = tempDir();
  let node: CohortProcess;
  let clientId: string;
  let oneTime: string;

  before(async () => {
    node = await startCohort({ dataDir: dir.path });
    const match = /One-time password \(shown once, change it at first sign-in\): (\S+)/.exec(node.stderr.join(''));
    assert.ok(match, `no one-time password printed: ${node.stderr.join('')}`);
    oneTime = match[1]!;
    const created = await runCli(['clients', 'add', '--public', '--redirect-uri', REDIRECT, '--json'], { env: { COHORT_DATA_DIR: dir.path } });
    clientId = (JSON.parse(created.stdout) as { client_id: string }).client_id;
  });

  after(async () => {
    await node?.stop();
    dir.remove();
  });

  async function authUrl(): Promise<string> {
    const url = new URL('/auth', node.issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    url.search = new URLSearchParams({
      client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  it('prints the password on the terminal, never in the JSON log', () => {
    assert.ok(!node.logs.join('\n').includes(oneTime));
  });

  it('asks for a new password at first sign-in, then accepts only the new one', async () => {
    const browser = new Browser();
    const page = await browser.follow(await authUrl());
    const change = await browser.post(new URL(formAction(page.body, '/login'), page.url).href, {
      csrf: hiddenField(page.body, 'csrf'), username: 'admin', password: oneTime,
    });
    assert.equal(change.status, 200);
    assert.match(change.body, /Choose a new password/);
    const action = new URL(formAction(change.body, '/password'), page.url).href;
    const mismatch = await browser.post(action, { csrf: hiddenField(change.body, 'csrf'), new_password: 'a brand new passphrase', confirm_password: 'something else entirely' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body, /do not match/);
    const done = await browser.post(action, { csrf: hiddenField(mismatch.body, 'csrf'), new_password: 'a brand new passphrase', confirm_password: 'a brand new passphrase' });
    assert.equal(done.status, 303);
    const result = await signIn(browser, done.location!, REDIRECT);
    assert.ok(result.callbackUrl.includes('code='));

    const old = await signIn(new Browser(), await authUrl(), REDIRECT, { username: 'admin', password: 'a brand new passphrase' });
    assert.ok(old.callbackUrl.includes('code='));
    const fresh = new Browser();
    const again = await fresh.follow(await authUrl());
    const refused = await fresh.post(new URL(formAction(again.body, '/login'), again.url).href, {
      csrf: hiddenField(again.body, 'csrf'), username: 'admin', password: oneTime,
    });
    assert.equal(refused.status, 401);
  });
});
