// Three real node processes with login-transaction state in encrypted browser cookies
// (state.backend.interRequest = cookie) and a browser sent round-robin: every request of a sign-in reaches the next
// node, so each step must be read from the cookie with the key ring the nodes share. Keys rotate every 5 s (the
// schema minimum, for tests) with one older key kept: a sign-in survives a rotation in its middle, a transaction
// whose key has been rotated out is refused, and so are tampered, forged and transplanted cookies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField, type Response } from './support/browser.js';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { waitFor } from './support/wait.js';
import { COOKIE_PREFIX, cookieName, kidOf } from '../src/state/cookie/index.js';
import { sealRecord } from '../src/state/cookie/cookie-codec.js';

const REDIRECT = 'http://127.0.0.1:5561/callback';
const PASSWORD = 'correct horse battery staple';
const ROTATION_SECONDS = 5;
const INVALID = /expired or is not valid/;

/** A browser behind a round-robin balancer: each request goes to the next node. */
class RoundRobin {
  readonly nodesUsed: number[] = [];
  #turn = 0;
  constructor(readonly browser: Browser, private readonly cluster: TestCluster, private readonly order = [1, 2, 3]) {}

  #rebase(url: string): string {
    const index = this.order[this.#turn++ % this.order.length]!;
    this.nodesUsed.push(index);
    const u = new URL(url);
    return new URL(u.pathname + u.search, this.cluster.url(index)).href;
  }

  get(url: string): Promise<Response> { return this.browser.get(this.#rebase(url)); }
  post(url: string, form: Record<string, string>): Promise<Response> { return this.browser.post(this.#rebase(url), form); }
}

/** The transaction cookie the browser holds for interaction `uid`. */
function txCookie(browser: Browser, uid: string): string | undefined {
  return browser.cookies().find((c) => c.name === cookieName(uid))?.value;
}

function uidOf(location: string): string {
  const match = /\/interaction\/([^/?]+)/.exec(location);
  assert.ok(match, `not an interaction URL: ${location}`);
  return match[1]!;
}

describe('cluster of three: login-transaction state in cookies, round-robin browser', { timeout: 90_000 }, () => {
  let cluster: TestCluster;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    cluster = await TestCluster.create({
      size: 3,
      env: {
        COHORT_STATE_BACKEND_INTER_REQUEST: 'cookie',
        COHORT_STATE_COOKIE_ROTATION_SECONDS: String(ROTATION_SECONDS),
        COHORT_STATE_COOKIE_KEYS_KEPT: '1',
      },
    });
    const env = cluster.env();
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: PASSWORD, env })).code, 0);
    client = JSON.parse((await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env })).stdout) as typeof client;
    await cluster.startAll();
    await cluster.waitReady();
  });

  after(async () => { await cluster?.stop(); });

  async function authorizationUrl(): Promise<{ url: string; verifier: string }> {
    const verifier = oidc.randomPKCECodeVerifier();
    const rp = await cluster.rp(1, client.client_id, client.client_secret);
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    return { url, verifier };
  }

  /** Starts a transaction: /auth on one node, the sign-in page on the next. Returns the page and its uid. */
  async function start(rr: RoundRobin, url: string): Promise<{ page: Response; uid: string; kid: string }> {
    const auth = await rr.get(url);
    assert.equal(auth.status, 303, `authorization answered ${auth.status}: ${auth.body.slice(0, 300)}`);
    const uid = uidOf(auth.location!);
    const set = ([] as string[]).concat(auth.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${cookieName(uid)}=`));
    assert.ok(set, 'the transaction went into a cookie');
    assert.match(set, /; Path=\/; HttpOnly; SameSite=Lax/);
    const page = await rr.get(auth.location!);
    assert.equal(page.status, 200, `sign-in page answered ${page.status}: ${page.body.slice(0, 300)}`);
    assert.match(page.body, /name="password"/);
    return { page, uid, kid: kidOf(txCookie(rr.browser, uid)!)! };
  }

  /** Completes a started transaction (password, then consent if asked) up to the redirect to the application. */
  async function finish(rr: RoundRobin, page: Response): Promise<string> {
    let res = await rr.post(new URL(formAction(page.body, '/login'), page.url).href, {
      csrf: hiddenField(page.body, 'csrf'), username: 'alice', password: PASSWORD,
    });
    for (let step = 0; step < 10; step++) {
      if (res.location?.startsWith(REDIRECT)) return res.location;
      if (res.location) {
        res = await rr.get(res.location);
        continue;
      }
      assert.equal(res.status, 200, `unexpected ${res.status} at ${res.url}: ${res.body.slice(0, 500)}`);
      assert.ok(res.body.includes('/confirm"'), `unexpected page at ${res.url}: ${res.body.slice(0, 500)}`);
      res = await rr.post(new URL(formAction(res.body, '/confirm'), res.url).href, { csrf: hiddenField(res.body, 'csrf') });
    }
    throw new Error('sign-in did not finish within 10 steps');
  }

  async function redeem(callbackUrl: string, verifier: string, node: number): Promise<string> {
    const rp = await cluster.rp(node, client.client_id, client.client_secret);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(callbackUrl), { pkceCodeVerifier: verifier });
    return String(tokens.claims()!.sub);
  }

  /** The kid new transactions are sealed with now (a throwaway transaction on `node`). */
  async function currentKid(node: number): Promise<string> {
    const browser = new Browser();
    const rr = new RoundRobin(browser, cluster, [node]);
    const auth = await rr.get((await authorizationUrl()).url);
    return kidOf(txCookie(browser, uidOf(auth.location!))!)!;
  }

  /** Waits until new transactions use a key none of `kids`; returns it. */
  function nextKid(kids: string[], node = 2): Promise<string> {
    return waitFor(`a key other than ${kids.join(', ')}`, async () => {
      const kid = await currentKid(node);
      return kids.includes(kid) ? undefined : kid;
    }, (ROTATION_SECONDS + 5) * 1000, 200);
  }

  it('signs in with every request on the next node, and leaves no transaction cookie behind', async (t) => {
    const rr = new RoundRobin(new Browser(), cluster);
    const { url, verifier } = await authorizationUrl();
    const { page, uid } = await start(rr, url);
    const size = cookieName(uid).length + 1 + txCookie(rr.browser, uid)!.length;
    t.diagnostic(`an Interaction at the login prompt takes ${size} bytes as a cookie`);
    assert.ok(size < 2_000, `${size} bytes`);
    const callback = await finish(rr, page);
    assert.deepEqual([...new Set(rr.nodesUsed)].sort(), [1, 2, 3]);
    assert.ok(rr.nodesUsed.length >= 4, `${rr.nodesUsed.length} requests`);
    assert.ok(await redeem(callback, verifier, 2));
    assert.deepEqual(rr.browser.cookies().filter((c) => c.name.startsWith(COOKIE_PREFIX)).map((c) => c.name), [],
      'finished transactions expire their cookies');

    // SSO through the session afterwards still works round-robin (no sign-in page, a fresh transaction each time).
    const again = await authorizationUrl();
    let res = await rr.get(again.url);
    for (let i = 0; i < 6 && res.location && !res.location.startsWith(REDIRECT); i++) res = await rr.get(res.location);
    assert.ok(res.location?.startsWith(REDIRECT), `SSO ended at ${res.status} ${res.url}`);
    assert.ok(await redeem(res.location!, again.verifier, 3));
  });

  it('finishes a sign-in across a key rotation, and refuses a transaction whose key was rotated out', async () => {
    const middle = new RoundRobin(new Browser(), cluster);
    const stale = new RoundRobin(new Browser(), cluster, [3, 1, 2]);
    const m = await authorizationUrl();
    const started = await start(middle, m.url);
    const old = await start(stale, (await authorizationUrl()).url);

    const rotated = await nextKid([started.kid]);
    const callback = await finish(middle, started.page);
    assert.ok(await redeem(callback, m.verifier, 1), 'the sign-in that began under the previous key finished');

    // One rotation later the key of `old` is no longer kept (keysKept = 1) on any node.
    await nextKid([old.kid, started.kid, rotated]);
    for (const node of [1, 2, 3]) {
      const res = await new RoundRobin(stale.browser, cluster, [node]).get(`${cluster.issuer}/interaction/${old.uid}`);
      assert.equal(res.status, 400, `node ${node} answered ${res.status}`);
      assert.match(res.body, INVALID);
    }

    // Rotations were made by one node, the one that started first (ties: lower index).
    const events = [...cluster.nodes.entries()].flatMap(([index, node]) => node.logs.flatMap((line) => {
      try {
        return [{ index, ...JSON.parse(line) as { event?: string; reason?: string; startedAt?: number } }];
      } catch { return []; }
    }));
    const rotators = new Set(events.filter((e) => e.event === 'interRequest.key_rotated' && e.reason === 'scheduled').map((e) => e.index));
    const synced = events.filter((e) => e.event === 'interRequest.keys_synced')
      .sort((a, b) => a.startedAt! - b.startedAt! || a.index - b.index);
    assert.deepEqual([...rotators], [synced[0]!.index], 'only the oldest member rotated');
    assert.ok(!events.some((e) => JSON.stringify(e).includes('material')), 'no key material in any log');
  });

  it('refuses tampered, forged and transplanted transaction cookies with the 400 page', async () => {
    const expectRefused = async (rr: RoundRobin, uid: string, what: string) => {
      const res = await rr.get(`${cluster.issuer}/interaction/${uid}`);
      assert.equal(res.status, 400, `${what}: ${res.status} ${res.body.slice(0, 200)}`);
      assert.match(res.body, INVALID, what);
    };

    const tampered = new RoundRobin(new Browser(), cluster);
    const t = await start(tampered, (await authorizationUrl()).url);
    const value = txCookie(tampered.browser, t.uid)!;
    const at = t.kid.length + 1 + Math.floor((value.length - t.kid.length) / 2);
    tampered.browser.setCookie(cookieName(t.uid), value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1));
    await expectRefused(tampered, t.uid, 'one character changed');

    const forged = new RoundRobin(new Browser(), cluster);
    const f = await start(forged, (await authorizationUrl()).url);
    forged.browser.setCookie(cookieName(f.uid), sealRecord({ kid: f.kid, key: createSecretKey(randomBytes(32)) }, f.uid,
      { returnTo: `${cluster.issuer}/auth/${f.uid}`, result: { login: { accountId: 'someone-else' } } }, Date.now() + 600_000));
    await expectRefused(forged, f.uid, 'sealed with a key of our own under a real kid');

    // Two transactions in one browser: the first one's cookie put under the second one's name.
    const both = new RoundRobin(new Browser(), cluster);
    const first = await start(both, (await authorizationUrl()).url);
    const second = await start(both, (await authorizationUrl()).url);
    both.browser.setCookie(cookieName(second.uid), txCookie(both.browser, first.uid)!);
    await expectRefused(both, second.uid, 'cookie of another transaction');
    const intact = await both.get(`${cluster.issuer}/interaction/${first.uid}`);
    assert.equal(intact.status, 200, 'the untouched transaction still loads');
  });
});
