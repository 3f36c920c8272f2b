// The cookie-mode key ring on an in-memory cluster: who rotates (the oldest live member, then the next oldest),
// how keys reach every member (sync at start, broadcast at rotation, healing a missed broadcast), the activation
// delay, the bound on kept keys, and that key material never reaches a log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ManualClock } from '../manual-clock.js';
import { FakeNetwork } from '../peer/fake-network.js';
import { FakeBrowser } from './fake-exchange.js';
import { CookieInterRequestStore } from './cookie-inter-request-store.js';
import { ADD_METHOD, INFO_METHOD, KeyRing, type KeyRingOptions } from './key-ring.js';

const ROTATION_MS = 60_000;

interface Logged { node: number; event?: unknown; reason?: unknown; [key: string]: unknown }

function cluster(startedAt: Record<number, number>, options: Partial<KeyRingOptions> & { delayMs?: FakeNetwork['delayMs'] } = {}) {
  const { delayMs, ...ringOptions } = options;
  const net = new FakeNetwork({ indexes: Object.keys(startedAt).map(Number), ...(delayMs ? { delayMs } : {}) });
  const clock = (ringOptions.clock ?? new ManualClock()) as ManualClock;
  const logs: Logged[] = [];
  const rings = new Map<number, KeyRing>();
  const make = (index: number, started = startedAt[index]!) => {
    rings.get(index)?.close();
    const log = (details: Record<string, unknown>) => logs.push({ node: index, ...details });
    const ring = new KeyRing({
      rpc: net.rpc(index), rotationMs: ROTATION_MS, keysKept: 2, activationMs: 0, clock, startedAt: started,
      logger: { info: log, warn: log }, ...ringOptions,
    });
    rings.set(index, ring);
    return ring;
  };
  const rotations = () => logs.filter((l) => l.event === 'interRequest.key_rotated' && l.reason === 'scheduled').map((l) => l.node);
  const closeAll = () => { for (const ring of rings.values()) ring.close(); };
  return { net, clock, logs, rings, make, rotations, closeAll, ring: (i: number) => rings.get(i)! };
}

describe('cookie-mode key ring', () => {
  it('a starting member takes the ring of the alive members before it serves, and cookies open on every node', async () => {
    const c = cluster({ 1: 300, 2: 100, 3: 200 });
    c.clock.advance(10 * ROTATION_MS);
    await c.make(2).tick();
    assert.deepEqual(c.ring(2).kids(), [], 'no rotation before the first sync: the ring and the oldest are unknown');
    await c.ring(2).sync(); // first member: nobody has a key, it makes one
    assert.equal(c.ring(2).kids().length, 1);
    const results = [await c.make(1).sync(), await c.make(3).sync()];
    assert.ok(results.every((r) => r.completed));
    for (const i of [1, 3]) assert.deepEqual(c.ring(i).kids(), c.ring(2).kids(), `node ${i} has node 2's key`);

    const stores = new Map([1, 2, 3].map((i) => [i, new CookieInterRequestStore({ keys: c.ring(i), clock: c.clock })]));
    const browser = new FakeBrowser();
    await browser.run(() => stores.get(1)!.put('tx', { step: 1 }, c.clock.now() + ROTATION_MS));
    await browser.run(() => stores.get(3)!.put('tx', { step: 2 }, c.clock.now() + ROTATION_MS));
    assert.deepEqual(await browser.run(() => stores.get(2)!.get('tx')), { step: 2 });
    c.closeAll();
  });

  it('only the oldest live member rotates; when it dies the next oldest takes over; a restarted member syncs', async () => {
    const c = cluster({ 1: 300, 2: 100, 3: 200 });
    for (const i of [2, 1, 3]) await c.make(i).sync();
    const all = () => [...c.rings.entries()].filter(([i]) => c.net.isAlive(i)).map(([, r]) => r);

    c.clock.advance(ROTATION_MS);
    await Promise.all(all().map((r) => r.tick()));
    assert.deepEqual(c.rotations(), [2], 'node 2 started first: it alone rotates');
    for (const r of all()) assert.deepEqual(r.kids(), c.ring(2).kids());
    assert.equal(c.ring(1).kids().length, 2);

    const browser = new FakeBrowser();
    const store1 = new CookieInterRequestStore({ keys: c.ring(1), clock: c.clock });
    await browser.run(() => store1.put('tx', { started: 'before node 2 died' }, c.clock.now() + 10 * ROTATION_MS));

    c.ring(2).close(); // a crash: the process runs nothing any more
    c.net.kill(2);
    await Promise.all(all().map((r) => r.tick())); // what member.failed triggers; the key is fresh: nothing to do
    assert.deepEqual(c.rotations(), [2]);
    c.clock.advance(ROTATION_MS);
    await Promise.all(all().map((r) => r.tick()));
    assert.deepEqual(c.rotations(), [2, 3], 'node 3 is the oldest alive now');
    assert.deepEqual(c.ring(1).kids(), c.ring(3).kids());
    const store3 = new CookieInterRequestStore({ keys: c.ring(3), clock: c.clock });
    assert.deepEqual(await browser.run(() => store3.get('tx')), { started: 'before node 2 died' });

    // Node 2 restarts: a new instance, started last, with an empty ring until it syncs.
    c.net.revive(2);
    const restarted = c.make(2, 400);
    assert.deepEqual(restarted.kids(), []);
    assert.ok((await restarted.sync()).completed);
    assert.deepEqual(restarted.kids(), c.ring(3).kids());
    const store2 = new CookieInterRequestStore({ keys: restarted, clock: c.clock });
    assert.deepEqual(await browser.run(() => store2.get('tx')), { started: 'before node 2 died' });
    c.clock.advance(ROTATION_MS);
    await Promise.all(all().map((r) => r.tick()));
    assert.deepEqual(c.rotations(), [2, 3, 3], 'node 3 stays the rotator: the restarted node 2 is now the youngest');
    c.closeAll();
  });

  it('a member that dies takes the rotation to the next oldest through member.failed, without waiting a period', async () => {
    const c = cluster({ 1: 100, 2: 200, 3: 300 });
    for (const i of [1, 2, 3]) await c.make(i).sync();
    c.clock.advance(ROTATION_MS);
    // The oldest dies just before its tick (a crashed process runs nothing): the key is overdue and the
    // membership event alone hands the rotation over.
    c.ring(1).close();
    c.net.kill(1);
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([c.ring(2).tick(), c.ring(3).tick()]); // joins the tick the event started
    assert.deepEqual(c.rotations(), [2]);
    assert.deepEqual(c.ring(3).kids(), c.ring(2).kids());
    c.closeAll();
  });

  it('keeps keysKept + 1 keys on every member, and heals a missed broadcast with the next one', async () => {
    let dropTo3 = false;
    const c = cluster({ 1: 100, 2: 200, 3: 300 }, {
      rpcTimeoutMs: 100,
      delayMs: ({ to, method }) => (dropTo3 && to === 3 && method === ADD_METHOD ? 1_000 : 0),
    });
    for (const i of [1, 2, 3]) await c.make(i).sync();
    dropTo3 = true;
    c.clock.advance(1);
    const missed = await c.ring(1).rotateNow();
    assert.equal(c.ring(3).find(missed.kid), undefined, 'node 3 did not get it');
    assert.ok(c.logs.some((l) => l.event === 'interRequest.key_distribution_failed' && String(l.members) === '3'));
    dropTo3 = false;
    c.clock.advance(1);
    await c.ring(1).rotateNow();
    assert.ok(c.ring(3).find(missed.kid), 'the next broadcast carried the whole ring');
    for (let n = 0; n < 5; n++) {
      c.clock.advance(1);
      await c.ring(1).rotateNow();
    }
    for (const i of [1, 2, 3]) {
      assert.equal(c.ring(i).kids().length, 3);
      assert.deepEqual(c.ring(i).kids(), c.ring(1).kids());
    }
    c.closeAll();
  });

  it('a new key encrypts only after the activation delay, but every member decrypts it at once', async () => {
    const c = cluster({ 1: 100, 2: 200, 3: 300 }, { activationMs: 2_000 });
    for (const i of [1, 2, 3]) await c.make(i).sync();
    c.clock.advance(5_000);
    const old = c.ring(2).current().kid;
    const fresh = await c.ring(1).rotateNow();
    for (const i of [1, 2, 3]) {
      assert.equal(c.ring(i).current().kid, old, `node ${i} still encrypts with the old key`);
      assert.ok(c.ring(i).find(fresh.kid), `node ${i} already decrypts the new one`);
    }
    c.clock.advance(2_000);
    for (const i of [1, 2, 3]) assert.equal(c.ring(i).current().kid, fresh.kid);
    c.closeAll();
  });

  it('ignores malformed keys from the back channel and never logs key material', async () => {
    const c = cluster({ 1: 100, 2: 200 });
    for (const i of [1, 2]) await c.make(i).sync();
    const before = c.ring(2).kids();
    const valid = 'A'.repeat(43);
    for (const payload of [null, 'x', { keys: 'nope' }, { keys: [null, 'str', 7] }, { keys: [
      { kid: 'bad kid!', material: valid, createdAt: 1 }, { kid: 'k1', material: `${'A'.repeat(42)}B`, createdAt: 1 },
      { kid: 'k2', material: valid, createdAt: -5 }, { kid: 'k3', material: valid, createdAt: 'now' },
      { kid: 'k4', material: 'A'.repeat(44), createdAt: 1 }, { kid: 'x'.repeat(33), material: valid, createdAt: 1 },
    ] }]) {
      await c.net.rpc(1).call(2, ADD_METHOD, payload);
      const answer = await c.net.rpc(1).call<{ startedAt: number }>(2, INFO_METHOD, payload);
      assert.equal(answer.startedAt, 200);
    }
    assert.deepEqual(c.ring(2).kids(), before);

    for (let n = 0; n < 3; n++) {
      c.clock.advance(ROTATION_MS);
      await Promise.all([c.ring(1).tick(), c.ring(2).tick()]);
    }
    const materials = c.ring(1).kids().map((kid) => c.ring(1).find(kid)!.key.export().toString('base64url'));
    const logged = JSON.stringify(c.logs);
    assert.ok(c.logs.length >= 4);
    for (const material of materials) {
      assert.ok(!logged.includes(material), 'no key in the logs');
      assert.ok(!inspect(c.ring(1).find(c.ring(1).kids()[0]!)).includes(material), 'printing a key shows no bytes');
    }
    c.closeAll();
  });

  it('rotates on its own timer: standalone, and in a cluster at the oldest member only', async () => {
    const standalone = new KeyRing({ rotationMs: 100, keysKept: 1, activationMs: 0 });
    await standalone.sync();
    const first = standalone.current().kid;
    await waitUntil(() => standalone.current().kid !== first, 2_000);
    standalone.close();

    const { systemClock } = await import('../types.js');
    const c = cluster({ 1: 300, 2: 200, 3: 100 }, { rotationMs: 150, clock: systemClock as unknown as ManualClock });
    for (const i of [3, 1, 2]) await c.make(i).sync();
    await waitUntil(() => c.rotations().length >= 3, 3_000);
    assert.deepEqual([...new Set(c.rotations())], [3], 'every timed rotation was made by node 3, the oldest');
    await waitUntil(() => c.ring(1).kids().join() === c.ring(3).kids().join() && c.ring(2).kids().join() === c.ring(3).kids().join(), 1_000);
    c.closeAll();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
