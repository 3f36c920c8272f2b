// A console and two engines, each engine on its OWN data directory (no shared database), as real processes: users
// added with `cohort users` on the console's data directory reach both engines; a password change made through an
// engine's page is forwarded to the console and works everywhere at once; a disabled user is refused on engines; an
// engine restarted while a user was added has that user before lbstatus is OK; with the console gone, a password
// change is refused with a clear message and the old password still works.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField, type Response } from './support/browser.js';
import { CONSOLE_INDEX, TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';

const REDIRECT = 'http://127.0.0.1:5590/callback';
const PASSWORD = 'correct horse battery staple';
const ENGINES = [1, 2];

describe('console: user store replicated to engines with their own data directories', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let client: { clientId: string; secret: string };

  before(async () => {
    cluster = await TestCluster.create({ size: 2, console: true, separateDataDirs: true });
    await cluster.startAll();
    await cluster.waitReady();
    // One published configuration (clients, signing and cookie keys) for every engine.
    const created = await cluster.api('POST', '/admin/api/clients', { name: 'App', redirectUris: [REDIRECT] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    client = { clientId: created.body.client.clientId, secret: created.body.secret };
    const published = await cluster.api('POST', '/admin/api/config/publish');
    assert.deepEqual(published.body.nodes.map((n: { ok: boolean }) => n.ok), [true, true], JSON.stringify(published.body));
  });

  after(async () => { await cluster?.stop(); });

  const cli = async (...args: string[]) => {
    const stdin = args.includes('--password-stdin') ? PASSWORD : undefined;
    const result = await runCli(['users', ...args], { env: cluster.env(), ...(stdin ? { stdin } : {}) });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  /** The password `cohort users add` generated (a one-time password: it must be changed at first sign-in). */
  const generated = (stdout: string) => stdout.trim().split('\n').pop()!.trim();

  /** Log events of node `index` named `event`. */
  const events = (index: number, event: string) => cluster.nodes.get(index)!.logs
    .map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } })
    .filter((e) => e.event === event);

  /**
   * Runs `change` and waits until every live engine applied a pushed change naming `username` (or, without one, at
   * least one more pushed change): a count alone could be satisfied by an unrelated earlier push.
   */
  async function replicated(change: () => Promise<unknown>, engines = ENGINES, username?: string): Promise<void> {
    const before = new Map(engines.map((i) => [i, events(i, 'users.replicated').length]));
    await change();
    for (const i of engines) {
      await waitFor(`engine ${i} to apply the change`, async () => {
        const fresh = events(i, 'users.replicated').slice(before.get(i)!);
        return username ? fresh.some((e) => (e.users as string[] | undefined)?.includes(username)) : fresh.length > 0;
      }, 10_000);
    }
  }

  async function authorizationUrl(node: number): Promise<string> {
    const rp = await cluster.rp(node, client.clientId, client.secret);
    return oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).href;
  }

  /** Posts the sign-in form on engine `node`; returns the page answered (and the browser, to continue). */
  async function submitLogin(node: number, username: string, password: string): Promise<{ browser: Browser; page: Response }> {
    const browser = new Browser();
    const login = await browser.follow(await authorizationUrl(node), undefined, 15, cluster.url(node));
    assert.match(login.body, /name="password"/, `${login.status} ${login.url}`);
    const page = await browser.post(new URL(formAction(login.body, '/login'), login.url).href, {
      csrf: hiddenField(login.body, 'csrf'), username, password,
    });
    return { browser, page };
  }

  async function signsIn(node: number, username: string, password: string): Promise<void> {
    const result = await signIn(new Browser(), await authorizationUrl(node), REDIRECT, { username, password }, cluster.url(node));
    assert.ok(result.callbackUrl.startsWith(REDIRECT), `node ${node}`);
  }

  async function refused(node: number, username: string, password: string): Promise<void> {
    const { page } = await submitLogin(node, username, password);
    assert.equal(page.status, 401, `node ${node} let ${username} in`);
    assert.match(page.body, /incorrect/);
  }

  it('copies a user added on the console to both engines', async () => {
    await replicated(() => cli('add', 'alice', '--password-stdin', '--email', 'alice@example.com'), ENGINES, 'alice');
    for (const node of ENGINES) await signsIn(node, 'alice', PASSWORD);
  });

  it('forwards a password change made at an engine to the console, which gives it to every engine', async () => {
    let oneTime = '';
    await replicated(async () => { oneTime = generated(await cli('add', 'carol')); }, ENGINES, 'carol');
    const { browser, page } = await submitLogin(2, 'carol', oneTime);
    assert.match(page.body, /Choose a new password/);
    const next = 'carol chose a brand new passphrase';
    let done = await browser.post(new URL(formAction(page.body, '/password'), cluster.url(2)).href, {
      csrf: hiddenField(page.body, 'csrf'), new_password: next, confirm_password: next,
    });
    done = await browser.follow(done, (url) => url.startsWith(REDIRECT), 15, cluster.url(2));
    if (done.status === 200 && done.body.includes('/confirm"')) {
      done = await browser.post(new URL(formAction(done.body, '/confirm'), cluster.url(2)).href, { csrf: hiddenField(done.body, 'csrf') });
      done = await browser.follow(done, (url) => url.startsWith(REDIRECT), 15, cluster.url(2));
    }
    assert.ok(done.location?.startsWith(REDIRECT) || done.url.startsWith(REDIRECT), `the sign-in finished: ${done.status} ${done.body.slice(0, 300)}`);
    // Engine 1 was given the new hash before engine 2 answered the page.
    await signsIn(1, 'carol', next);
    await refused(1, 'carol', oneTime);
    assert.ok(!cluster.nodes.get(2)!.logs.concat(cluster.nodes.get(CONSOLE_INDEX)!.logs, cluster.nodes.get(1)!.logs).some((l) => l.includes(next)),
      'the new password appears in no log');
  });

  it('refuses a user disabled on the console at every engine', async () => {
    await cli('add', 'bob', '--password-stdin');
    await replicated(() => cli('disable', 'bob'), ENGINES, 'bob');
    for (const node of ENGINES) await refused(node, 'bob', PASSWORD);
  });

  it('gives a restarted engine the users added while it was down before its lbstatus is OK', async () => {
    await cluster.kill(2);
    await waitFor('the console to see engine 2 dead', async () =>
      (await cluster.status(CONSOLE_INDEX)).ClusterStatus.members.find((m) => m.index === 2)?.state === 'dead', 10_000);
    await replicated(() => cli('add', 'dave', '--password-stdin'), [1], 'dave');
    await cli('remove', 'alice');
    const restarted = await cluster.start(2);
    const order = restarted.logs.map((l) => { try { return (JSON.parse(l) as { event?: string }).event; } catch { return undefined; } });
    assert.ok(order.includes('users.copied') && order.indexOf('users.copied') < order.indexOf('node.started'),
      'the users were copied before the node said it started');
    await waitFor('engine 2 ready', async () => (await cluster.lbStatus(2)) === 200, 20_000);
    await signsIn(2, 'dave', PASSWORD);
    await refused(2, 'alice', PASSWORD);
  });

  it('refuses a password change with a clear message while the console is down, and keeps the old password', async () => {
    let oneTime = '';
    await replicated(async () => { oneTime = generated(await cli('add', 'erin')); }, ENGINES, 'erin');
    await cluster.kill(CONSOLE_INDEX);
    await waitFor('engine 1 to see the console dead', async () =>
      (await cluster.status(1)).ClusterStatus.members.find((m) => m.index === CONSOLE_INDEX)?.state === 'dead', 10_000);
    const { browser, page } = await submitLogin(1, 'erin', oneTime);
    assert.match(page.body, /Choose a new password/);
    const next = 'erin wants a new passphrase';
    const answer = await browser.post(new URL(formAction(page.body, '/password'), cluster.url(1)).href, {
      csrf: hiddenField(page.body, 'csrf'), new_password: next, confirm_password: next,
    });
    assert.equal(answer.status, 503);
    assert.match(answer.body, /cannot be changed now/);
    // Nothing changed: the one-time password still signs in (and still asks for a new password).
    const again = await submitLogin(1, 'erin', oneTime);
    assert.match(again.page.body, /Choose a new password/);
  });
});
