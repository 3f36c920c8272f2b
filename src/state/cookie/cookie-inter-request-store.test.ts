// The cookie backend of interRequest: the shared cases through a browser that carries cookies between exchanges,
// then what only a browser-held record must withstand (tampering, forgery, replay under another id, old keys).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { interRequestStoreCases } from '../inter-request.case.test.js';
import { ManualClock } from '../manual-clock.js';
import type { JsonObject } from '../types.js';
import { FakeBrowser } from './fake-exchange.js';
import { CookieTooLargeError, MAX_COOKIE_BYTES, cookieName, kidOf, sealRecord } from './cookie-codec.js';
import { CookieInterRequestStore } from './cookie-inter-request-store.js';
import { KeyRing, staticKeyOf } from './key-ring.js';

const MINUTE = 60_000;

function setup(options: { keysKept?: number } = {}) {
  const clock = new ManualClock();
  const ring = new KeyRing({ rotationMs: 3_600_000, keysKept: options.keysKept ?? 2, activationMs: 0, clock });
  ring.current();
  const store = new CookieInterRequestStore({ keys: ring, clock });
  return { clock, ring, store, browser: new FakeBrowser() };
}

/** Roughly what oidc-provider stores for an Interaction at the login prompt. */
function interactionPayload(): JsonObject {
  return {
    iat: 1_760_000_000, exp: 1_760_000_600, returnTo: 'https://sso.example.org/auth/Bq8vS7dWZx2y1Kp0LmNnOoPqRrSsTtUu',
    prompt: { name: 'login', reasons: ['no_session'], details: {} },
    params: {
      client_id: 'c-2f1d0f7a9b3e4c5d', redirect_uri: 'https://app.example.org/callback', response_type: 'code',
      scope: 'openid profile email groups', state: randomBytes(24).toString('base64url'),
      nonce: randomBytes(24).toString('base64url'), code_challenge: randomBytes(32).toString('base64url'),
      code_challenge_method: 'S256',
    },
    trusted: [], cid: randomBytes(16).toString('base64url'), kind: 'Interaction', jti: 'Bq8vS7dWZx2y1Kp0LmNnOoPqRrSsTtUu',
    session: { uid: randomBytes(16).toString('base64url'), cookie: randomBytes(16).toString('base64url'), acr: 'urn:cohort:pwd' },
    lastSubmission: { login: { accountId: 'u-6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' } },
  };
}

interRequestStoreCases('cookie', async () => {
  const { clock, ring, store, browser } = setup();
  return {
    service: {
      put: (id, payload, expiresAt) => browser.run(() => store.put(id, payload, expiresAt)),
      get: (id) => browser.run(() => store.get(id)),
      delete: (id) => browser.run(() => store.delete(id)),
    },
    now: () => clock.now(),
    advance: async (ms) => clock.advance(ms),
    close: async () => ring.close(),
  };
});

describe('cookie interRequest store', () => {
  it('sets one HttpOnly, SameSite=Lax cookie per record, named by a hash of the id, living until the record expires', async () => {
    const { store, browser, clock, ring } = setup();
    const plain = await browser.exchange(() => store.put('interaction-1', { a: 1 }, clock.now() + 10 * MINUTE));
    assert.equal(plain.setCookies.length, 1);
    const name = cookieName('interaction-1');
    assert.match(name, /^cohort_tx_[0-9a-f]{16}$/);
    const [pair, ...attributes] = plain.setCookies[0]!.split('; ');
    assert.equal(pair!.slice(0, pair!.indexOf('=')), name);
    assert.deepEqual(attributes, ['Max-Age=600', 'Path=/', 'HttpOnly', 'SameSite=Lax']);
    assert.equal(kidOf(browser.jar.get(name)!), ring.current().kid);
    assert.ok(!plain.setCookies[0]!.includes('interaction-1'), 'the id is not readable in the cookie');

    const secure = await browser.exchange(() => store.put('interaction-2', { a: 1 }, clock.now() + 1_500), { secure: true });
    assert.match(secure.setCookies[0]!, /; Max-Age=2; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    assert.deepEqual(await browser.run(() => store.get('interaction-1')), { a: 1 });
    ring.close();
  });

  it('reads back, overwrites and deletes within one exchange, before the browser has the cookie', async () => {
    const { store, browser, clock, ring } = setup();
    const at = clock.now() + MINUTE;
    const { result, setCookies } = await browser.exchange(async () => {
      await store.put('i1', { step: 1 }, at);
      const first = await store.get('i1');
      await store.put('i1', { step: 2 }, at);
      const second = await store.get('i1');
      await store.put('i2', { other: true }, at);
      await store.delete('i2');
      return { first, second, deleted: await store.get('i2') };
    });
    assert.deepEqual(result, { first: { step: 1 }, second: { step: 2 }, deleted: undefined });
    assert.equal(setCookies.filter((c) => c.startsWith(`${cookieName('i1')}=`)).length, 1, 'the last write replaced the first');
    assert.deepEqual(await browser.run(() => store.get('i1')), { step: 2 });
    // Another browser (another exchange without the cookie) has nothing: the state is only in the first browser.
    assert.equal(await new FakeBrowser().run(() => store.get('i1')), undefined);
    const deletion = await browser.exchange(() => store.delete('i1'));
    assert.match(deletion.setCookies[0]!, new RegExp(`^${cookieName('i1')}=; Max-Age=0; Path=/`));
    assert.equal((await browser.exchange(() => store.delete('never-set'))).setCookies.length, 0, 'no header for nothing');
    ring.close();
  });

  it('refuses every altered byte of the cookie', async () => {
    const { store, browser, clock, ring } = setup();
    await browser.run(() => store.put('i1', { secret: 'x' }, clock.now() + MINUTE));
    const name = cookieName('i1');
    const good = browser.jar.get(name)!;
    const [kid, body] = good.split('.') as [string, string];
    const raw = Buffer.from(body, 'base64url');
    // Every byte position: IV, ciphertext and tag.
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i]! ^= 0x01;
      browser.jar.set(name, `${kid}.${altered.toString('base64url')}`);
      assert.equal(await browser.run(() => store.get('i1')), undefined, `byte ${i} altered`);
    }
    for (const bad of ['', '.', `${kid}.`, `.${body}`, `${kid}`, `${kid}.${body}.x`, `${kid}.${body.slice(0, 20)}`,
      `${kid}!.${body}`, `${kid}.${body}%`, 'x'.repeat(5_000), `${kid}.${body.slice(1)}`, `${kid}.${body}AA`]) {
      browser.jar.set(name, bad);
      assert.equal(await browser.run(() => store.get('i1')), undefined, `value ${bad.slice(0, 40)}`);
    }
    browser.jar.set(name, good);
    assert.deepEqual(await browser.run(() => store.get('i1')), { secret: 'x' }, 'the intact cookie still opens');
    ring.close();
  });

  it('refuses a cookie forged with another key under a real kid, and one relabelled with another kid', async () => {
    const { store, browser, clock, ring } = setup();
    const kid = ring.current().kid;
    const forged = sealRecord({ kid, key: createSecretKey(randomBytes(32)) }, 'i1', { login: { accountId: 'admin' } }, clock.now() + MINUTE);
    browser.jar.set(cookieName('i1'), forged);
    assert.equal(await browser.run(() => store.get('i1')), undefined);

    // A hand-made one that skips our AAD entirely.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', createSecretKey(randomBytes(32)), iv);
    const plain = deflateRawSync(JSON.stringify({ id: 'i1', payload: { x: 1 }, expiresAt: clock.now() + MINUTE }));
    browser.jar.set(cookieName('i1'), `${kid}.${Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url')}`);
    assert.equal(await browser.run(() => store.get('i1')), undefined);

    await browser.run(() => store.put('i1', { x: 1 }, clock.now() + MINUTE));
    const sealed = browser.jar.get(cookieName('i1'))!;
    clock.advance(1);
    await ring.rotateNow();
    const other = ring.current().kid;
    assert.notEqual(other, kid);
    browser.jar.set(cookieName('i1'), `${other}${sealed.slice(kid.length)}`);
    assert.equal(await browser.run(() => store.get('i1')), undefined, 'kid is authenticated');
    ring.close();
  });

  it('refuses a cookie copied under another record\'s name', async () => {
    const { store, browser, clock, ring } = setup();
    await browser.run(() => store.put('victim', { login: { accountId: 'alice' } }, clock.now() + MINUTE));
    await browser.run(() => store.put('mine', { step: 1 }, clock.now() + MINUTE));
    browser.jar.set(cookieName('mine'), browser.jar.get(cookieName('victim'))!);
    assert.equal(await browser.run(() => store.get('mine')), undefined);
    assert.deepEqual(await browser.run(() => store.get('victim')), { login: { accountId: 'alice' } });
    ring.close();
  });

  it('refuses an expired record even when the browser still sends it', async () => {
    const { store, browser, clock, ring } = setup();
    await browser.run(() => store.put('i1', { step: 1 }, clock.now() + MINUTE));
    clock.advance(MINUTE - 1);
    assert.deepEqual(await browser.run(() => store.get('i1')), { step: 1 });
    clock.advance(1);
    assert.equal(await browser.run(() => store.get('i1')), undefined);
    // An expiry in the past writes nothing readable: it expires the cookie.
    const past = await browser.exchange(() => store.put('i1', { step: 2 }, clock.now() - 1));
    assert.match(past.setCookies[0]!, /Max-Age=0/);
    ring.close();
  });

  it('opens cookies sealed under the keysKept previous keys, and refuses older ones', async () => {
    const { store, browser, clock, ring } = setup({ keysKept: 2 });
    await browser.run(() => store.put('i1', { step: 1 }, clock.now() + 600 * MINUTE));
    for (let rotation = 1; rotation <= 2; rotation++) {
      clock.advance(1);
      await ring.rotateNow();
      assert.deepEqual(await browser.run(() => store.get('i1')), { step: 1 }, `after ${rotation} rotation(s)`);
    }
    clock.advance(1);
    await ring.rotateNow();
    assert.equal(ring.kids().length, 3);
    assert.equal(await browser.run(() => store.get('i1')), undefined, 'its key is no longer kept');
    ring.close();
  });

  it('keeps an Interaction well under the bound, and refuses a record too large for a cookie', async () => {
    const { store, browser, clock, ring } = setup();
    const payload = interactionPayload();
    const { setCookies } = await browser.exchange(() => store.put('i1', payload, clock.now() + MINUTE));
    const size = setCookies[0]!.split(';')[0]!.length;
    assert.ok(size < 1_400, `an Interaction takes ${size} bytes as a cookie`);
    assert.deepEqual(await browser.run(() => store.get('i1')), payload);

    const big = { blob: randomBytes(3_000).toString('base64') }; // incompressible
    await assert.rejects(browser.run(() => store.put('i2', big, clock.now() + MINUTE)),
      (err: Error) => err instanceof CookieTooLargeError && /above the 3800-byte limit/.test(err.message));
    const near = { blob: randomBytes(2_600).toString('base64url').slice(0, 2_600) };
    const fits = await browser.exchange(() => store.put('i3', near, clock.now() + MINUTE));
    assert.ok(fits.setCookies[0]!.split(';')[0]!.length <= MAX_COOKIE_BYTES);
    ring.close();
  });

  it('says clearly that it needs an HTTP exchange, and refuses to write after the headers went out', async () => {
    const { store, clock, ring } = setup();
    for (const call of [() => store.put('i1', {}, clock.now() + MINUTE), () => store.get('i1'), () => store.delete('i1')]) {
      await assert.rejects(call(), /only works while an HTTP request is being served/);
    }
    await assert.rejects(new FakeBrowser().run(async () => {
      const { currentRequest } = await import('../../http/request-context.js');
      currentRequest()!.res.flushHeaders();
      await store.put('i1', {}, clock.now() + MINUTE);
    }), /after the response headers were sent/);
    ring.close();
  });

  it('with a static key, every node opens every node\'s cookies, and a replaced static key refuses them', async () => {
    const staticKey = randomBytes(32).toString('base64url');
    const clock = new ManualClock();
    const nodes = [1, 2].map(() => {
      const ring = new KeyRing({ rotationMs: 1_000, keysKept: 1, staticKey, clock });
      return { ring, store: new CookieInterRequestStore({ keys: ring, clock }) };
    });
    const browser = new FakeBrowser();
    await browser.run(() => nodes[0]!.store.put('i1', { step: 1 }, clock.now() + MINUTE));
    assert.deepEqual(await browser.run(() => nodes[1]!.store.get('i1')), { step: 1 });
    assert.equal(nodes[0]!.ring.current().kid, staticKeyOf(staticKey).kid);
    await assert.rejects(nodes[0]!.ring.rotateNow(), /static/);
    const replaced = new KeyRing({ rotationMs: 1_000, keysKept: 1, staticKey: randomBytes(32).toString('base64url'), clock });
    assert.equal(await browser.run(() => new CookieInterRequestStore({ keys: replaced, clock }).get('i1')), undefined);
    for (const bad of ['short', randomBytes(31).toString('base64url'), randomBytes(33).toString('base64url'), `${staticKey.slice(0, 42)}B`]) {
      assert.throws(() => new KeyRing({ rotationMs: 1_000, keysKept: 1, staticKey: bad }), /32 random bytes in base64url/);
    }
  });
});
