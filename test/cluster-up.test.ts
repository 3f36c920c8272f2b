// `cohort cluster up --balancer haproxy --console`: a newcomer's local cluster behind HAProxy answers sign-ins at the
// printed issuer, lists its nodes and its console in cluster.json, and Ctrl-C stops every process it started.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { Browser } from './support/browser.js';
import { freePortRange } from './support/cluster.js';
import { COHORT_BIN, FAST_ENV, runCli, tempDir } from './support/processes.js';
import { discover } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const haproxyMissing = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0;
const REDIRECT = 'http://127.0.0.1:5570/callback';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('cohort cluster up', { timeout: 120_000, skip: haproxyMissing ? 'haproxy is not installed (apt-get install haproxy)' : false }, () => {
  const dir = tempDir();
  let up: ChildProcess;
  let basePort: number;
  let output = '';

  before(async () => {
    basePort = await freePortRange(4);
    const backChannel = await freePortRange(4);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...FAST_ENV, COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' };
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin', '--data-dir', dir.path], { stdin: 'a good long password' })).code, 0);
    up = spawn(process.execPath, [COHORT_BIN, 'cluster', 'up', '--nodes', '2', '--base-port', String(basePort),
      '--back-channel-port', String(backChannel), '--data-dir', dir.path, '--balancer', 'haproxy', '--console'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.setEncoding('utf8').on('data', (c: string) => { output += c; });
    up.stderr!.setEncoding('utf8').on('data', (c: string) => { output += c; });
    await waitFor('the cluster to come up', () => output.includes('2 nodes up'), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  });

  after(async () => {
    if (up && up.exitCode === null) up.kill('SIGKILL');
    // Whatever the outcome, leave no node or haproxy behind.
    try {
      const info = JSON.parse(readFileSync(join(dir.path, 'cluster.json'), 'utf8')) as { nodes: Array<{ pid: number }>; balancer?: { pid: number }; console?: { pid: number } };
      for (const pid of [...info.nodes.map((n) => n.pid), info.balancer?.pid, info.console?.pid]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    } catch { /* no cluster.json: nothing was started */ }
    dir.remove();
  });

  it('writes cluster.json and serves sign-ins at the issuer through HAProxy', async () => {
    const info = JSON.parse(readFileSync(join(dir.path, 'cluster.json'), 'utf8')) as {
      issuer: string; nodes: Array<{ index: number; url: string; backChannelPort: number; pid: number }>;
    };
    assert.equal(info.issuer, `http://127.0.0.1:${basePort}`);
    assert.deepEqual(info.nodes.map((n) => [n.index, n.url]), [[1, `http://127.0.0.1:${basePort + 1}`], [2, `http://127.0.0.1:${basePort + 2}`]]);
    const created = await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json', '--data-dir', dir.path]);
    const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    // With a console, a client added to the store is staged: the engines serve it once it is published.
    const consoleUrl = `http://127.0.0.1:${basePort + 3}`;
    const basic = `Basic ${Buffer.from('admin:admin-password-for-tests').toString('base64')}`;
    const published = await fetch(`${consoleUrl}/admin/api/config/publish`, { method: 'POST', headers: { authorization: basic } });
    assert.equal(published.status, 200, await published.text());
    await waitFor('haproxy to route', async () => (await fetch(`${info.issuer}/status/v2/lbstatus`)).status === 200, 20_000);
    const config = await discover(info.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const browser = new Browser();
    const result = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT, { username: 'alice', password: 'a good long password' });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
    assert.ok(tokens.id_token);
  });

  it('runs a console beside the engines, out of the balanced pool', async () => {
    const info = JSON.parse(readFileSync(join(dir.path, 'cluster.json'), 'utf8')) as { console: { index: number; url: string } };
    assert.deepEqual([info.console.index, info.console.url], [3, `http://127.0.0.1:${basePort + 3}`]);
    assert.ok(!readFileSync(join(dir.path, 'haproxy.cfg'), 'utf8').includes(`:${basePort + 3}`), 'the balancer never sends users to the console');
    const basic = `Basic ${Buffer.from('admin:admin-password-for-tests').toString('base64')}`;
    const cluster = await (await fetch(`${info.console.url}/admin/api/cluster`, { headers: { authorization: basic } })).json() as { nodes: Array<{ index: number; role: string }> };
    assert.deepEqual(cluster.nodes.map((n) => [n.index, n.role]).sort(), [[1, 'engine'], [2, 'engine'], [3, 'console']]);
    assert.equal((await fetch(`${info.console.url}/console/login`)).status, 200);
  });

  it('stops every process on Ctrl-C', async () => {
    const info = JSON.parse(readFileSync(join(dir.path, 'cluster.json'), 'utf8')) as { nodes: Array<{ pid: number }>; balancer: { pid: number }; console: { pid: number } };
    const pids = [...info.nodes.map((n) => n.pid), info.balancer.pid, info.console.pid];
    assert.ok(pids.every(alive));
    up.kill('SIGINT');
    await waitFor('cluster up to exit', () => up.exitCode !== null, 20_000);
    await waitFor('every node and haproxy to stop', () => pids.every((p) => !alive(p)), 10_000);
  });
});
