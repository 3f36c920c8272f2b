// The local backend: every shared case suite, then what only the local backend promises (caps, sweeps, copies).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, HarnessFactory } from '../case-harness.js';
import { ManualClock } from '../manual-clock.js';
import { STATE_SERVICE_NAMES, type JsonObject, type SessionRecord, type StateServices } from '../types.js';
import { artifactStoreCases } from '../artifacts.case.test.js';
import { interRequestStoreCases } from '../inter-request.case.test.js';
import { loginFailureCounterCases } from '../login-failures.case.test.js';
import { sessionRegistryCases } from '../registry.case.test.js';
import { replayCacheCases } from '../replay.case.test.js';
import { revocationListCases } from '../revocations.case.test.js';
import { sessionStoreCases } from '../sessions.case.test.js';
import { tokenStoreCases } from '../tokens.case.test.js';
import {
  createLocalStateServices, DEFAULT_LOCAL_LIMITS, DEFAULT_SWEEP_INTERVAL_MS, LocalArtifactStore, LocalInterRequestStore,
  LocalLoginFailureCounter, LocalReplayCache, LocalRevocationList, LocalSessionRegistry, LocalSessionStore,
  LocalTokenStore,
} from './index.js';

/** Runs the shared suites through createLocalStateServices, so the wiring is exercised too. */
function harness<K extends keyof Omit<StateServices, 'close'>>(name: K): HarnessFactory<StateServices[K]> {
  return async (): Promise<Harness<StateServices[K]>> => {
    const clock = new ManualClock();
    const services = createLocalStateServices(DEFAULT_LOCAL_LIMITS, clock);
    return {
      service: services[name],
      now: () => clock.now(),
      advance: async (ms) => clock.advance(ms),
      close: () => services.close(),
    };
  };
}

sessionStoreCases('local', harness('sessions'));
interRequestStoreCases('local', harness('interRequest'));
tokenStoreCases('local', harness('tokens'));
replayCacheCases('local', harness('replay'));
artifactStoreCases('local', harness('artifacts'));
sessionRegistryCases('local', harness('registry'));
revocationListCases('local', harness('revocations'));
loginFailureCounterCases('local', harness('loginFailures'));

/** A store with a small cap, a manual clock and no timer; closed by the caller. */
function small<T>(make: (o: { maxEntries: number; clock: ManualClock; sweepIntervalMs: number }) => T, maxEntries = 3) {
  const clock = new ManualClock();
  return { store: make({ maxEntries, clock, sweepIntervalMs: 0 }), clock, at: (ms: number) => clock.now() + ms };
}

const session = (id: string, expiresAt: number, userId?: string): SessionRecord =>
  ({ id, uid: `uid-${id}`, payload: { n: 1 }, expiresAt, ...(userId === undefined ? {} : { userId }) });

describe('local sessions: cap and indexes', () => {
  it('evicts the least recently used session and forgets it in every index', async () => {
    const { store, at } = small((o) => new LocalSessionStore(o));
    await store.put(session('s1', at(1_000), 'alice'));
    await store.put(session('s2', at(1_000), 'alice'));
    await store.put(session('s3', at(1_000), 'bob'));
    await store.get('s1');
    await store.put(session('s4', at(1_000), 'bob'));
    assert.equal(await store.get('s2'), undefined);
    assert.equal(await store.findByUid('uid-s2'), undefined);
    assert.deepEqual((await store.listByUser('alice')).map((s) => s.id), ['s1']);
    assert.deepEqual((await store.list()).items.map((s) => s.id), ['s1', 's3', 's4']);
    assert.equal(await store.count(), 3);
    assert.deepEqual(store.stats(), { sessions: 3, uids: 3, users: 2, created: 3 });
    store.close();
  });

  it('empties every index when sessions expire and are swept', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = new ManualClock();
    const store = new LocalSessionStore({ maxEntries: 10, clock, sweepIntervalMs: 1_000 });
    await store.put(session('s1', clock.now() + 10, 'alice'));
    await store.put(session('s2', clock.now() + 10));
    clock.advance(10);
    t.mock.timers.tick(1_000);
    assert.deepEqual(store.stats(), { sessions: 0, uids: 0, users: 0, created: 0 });
    store.close();
  });

  it('empties every index on delete', async () => {
    const { store, at } = small((o) => new LocalSessionStore(o));
    await store.put(session('s1', at(1_000), 'alice'));
    await store.delete('s1');
    assert.deepEqual(store.stats(), { sessions: 0, uids: 0, users: 0, created: 0 });
    store.close();
  });

  it('rejects a negative or fractional page', async () => {
    const { store } = small((o) => new LocalSessionStore(o));
    await assert.rejects(store.list({ offset: -1 }), RangeError);
    await assert.rejects(store.list({ limit: 1.5 }), RangeError);
    store.close();
  });
});

describe('local tokens: cap and indexes', () => {
  it('evicts the least recently used record and forgets it in every index', async () => {
    const { store, at } = small((o) => new LocalTokenStore(o), 2);
    const exp = at(1_000);
    const indexed = { userCode: 'U', uid: 'u', grantId: 'g' };
    await store.put({ model: 'DeviceCode', id: 'd1', payload: {}, expiresAt: exp, ...indexed });
    await store.put({ model: 'AccessToken', id: 'a1', payload: {}, expiresAt: exp, grantId: 'g' });
    await store.put({ model: 'AccessToken', id: 'a2', payload: {}, expiresAt: exp, grantId: 'h' });
    assert.equal(await store.findByUserCode('DeviceCode', 'U'), undefined);
    assert.deepEqual(store.stats(), { records: 2, userCodes: 0, uids: 0, grants: 2 });
    await store.revokeByGrantId('g');
    assert.deepEqual(store.stats(), { records: 1, userCodes: 0, uids: 0, grants: 1 });
    store.close();
  });
});

describe('local caps', () => {
  it('revocations: over the cap the oldest go first', async () => {
    const { store, at } = small((o) => new LocalRevocationList(o));
    for (const id of ['r1', 'r2', 'r3']) await store.revoke(id, at(1_000));
    await store.isRevoked('r1'); // reading must not save it: first in, first out
    await store.revoke('r1', at(2_000)); // nor must revoking it again
    await store.revoke('r4', at(1_000));
    assert.equal(await store.isRevoked('r1'), false);
    assert.deepEqual((await store.entries()).map((e) => e.id), ['r2', 'r3', 'r4']);
    store.close();
  });

  it('revocations: revoking again never shortens the expiry', async () => {
    const { store, clock, at } = small((o) => new LocalRevocationList(o));
    await store.revoke('r1', at(1_000));
    await store.revoke('r1', at(10));
    clock.advance(500);
    assert.equal(await store.isRevoked('r1'), true);
    await store.revoke('r1', at(1_000));
    assert.deepEqual(await store.entries(), [{ id: 'r1', expiresAt: at(1_000) }]);
    store.close();
  });

  it('replay: over the cap the oldest id is forgotten, reads or not', async () => {
    const { store, at } = small((o) => new LocalReplayCache(o));
    for (const id of ['a', 'b', 'c']) assert.equal(await store.checkAndSet('ns', id, at(1_000)), true);
    assert.equal(await store.checkAndSet('ns', 'a', at(1_000)), false);
    assert.equal(await store.checkAndSet('ns', 'd', at(1_000)), true);
    assert.equal(await store.checkAndSet('ns', 'b', at(1_000)), false);
    assert.equal(await store.checkAndSet('ns', 'a', at(1_000)), true);
    store.close();
  });

  it('artifacts: over the cap the oldest message goes first', async () => {
    const { store, at } = small((o) => new LocalArtifactStore(o), 2);
    for (const h of ['h1', 'h2', 'h3']) await store.put(h, h, at(1_000));
    assert.equal(await store.take('h1'), undefined);
    assert.equal(await store.take('h2'), 'h2');
    store.close();
  });

  it('interRequest: the least recently used entry goes first', async () => {
    const { store, at } = small((o) => new LocalInterRequestStore(o), 2);
    await store.put('i1', {}, at(1_000));
    await store.put('i2', {}, at(1_000));
    await store.get('i1');
    await store.put('i3', {}, at(1_000));
    assert.equal(await store.get('i2'), undefined);
    assert.deepEqual(await store.get('i1'), {});
    store.close();
  });

  it('registry: the least recently used session entry goes first', async () => {
    const { store, at } = small((o) => new LocalSessionRegistry(o), 2);
    await store.add('s1', { protocol: 'oidc', clientId: 'a' }, at(1_000));
    await store.add('s2', { protocol: 'oidc', clientId: 'a' }, at(1_000));
    await store.list('s1');
    await store.add('s3', { protocol: 'oidc', clientId: 'a' }, at(1_000));
    assert.deepEqual(await store.list('s2'), []);
    assert.equal((await store.list('s1')).length, 1);
    store.close();
  });

  it('loginFailures: the least recently used key goes first', async () => {
    const { store } = small((o) => new LocalLoginFailureCounter(o), 2);
    await store.record('a', 1_000);
    await store.record('b', 1_000);
    await store.count('a', 1_000);
    await store.record('c', 1_000);
    assert.equal(await store.count('b', 1_000), 0);
    assert.equal(await store.count('a', 1_000), 1);
    store.close();
  });

  it('loginFailures: a failure exactly windowMs old no longer counts', async () => {
    const { store, clock } = small((o) => new LocalLoginFailureCounter(o));
    await store.record('k', 1_000);
    clock.advance(99);
    assert.equal(await store.count('k', 100), 1);
    clock.advance(1);
    assert.equal(await store.count('k', 100), 0);
    assert.equal(await store.count('k', 101), 1);
    store.close();
  });

  it('loginFailures: a narrower window never prunes what a wider one counts', async () => {
    const { store, clock } = small((o) => new LocalLoginFailureCounter(o));
    await store.record('k', 1_000);
    clock.advance(500);
    assert.equal(await store.record('k', 100), 1);
    assert.equal(await store.count('k', 1_000), 2);
    clock.advance(400);
    assert.equal(await store.count('k', 1_000), 2, 'the key lives as long as the widest window');
    store.close();
  });

  it('loginFailures: a key keeps only its latest timestamps', async () => {
    const { store, clock } = small((o) => new LocalLoginFailureCounter({ ...o, maxFailuresPerKey: 5 }));
    for (let i = 0; i < 7; i++) {
      await store.record('k', 10_000);
      clock.advance(1);
    }
    assert.equal(await store.count('k', 10_000), 5);
    assert.throws(() => new LocalLoginFailureCounter({ maxEntries: 1, maxFailuresPerKey: 0 }), RangeError);
    store.close();
  });
});

describe('local copies: callers cannot reach stored state', () => {
  it('sessions copy on write and on read', async () => {
    const { store, at } = small((o) => new LocalSessionStore(o));
    const record = session('s1', at(1_000), 'alice');
    await store.put(record);
    (record.payload as JsonObject).n = 99;
    const read = await store.get('s1');
    (read!.payload as JsonObject).n = 98;
    (await store.listByUser('alice'))[0]!.payload.n = 97;
    (await store.list()).items[0]!.payload.n = 96;
    (await store.findByUid('uid-s1'))!.payload.n = 95;
    assert.equal((await store.get('s1'))?.payload.n, 1);
    store.close();
  });

  it('tokens, interRequest and registry copy on write and on read', async () => {
    const clock = new ManualClock();
    const services = createLocalStateServices(DEFAULT_LOCAL_LIMITS, clock);
    const exp = clock.now() + 1_000;
    const payload: JsonObject = { list: [1] };
    await services.tokens.put({ model: 'Grant', id: 'g', payload, expiresAt: exp });
    await services.interRequest.put('i', payload, exp);
    const details: JsonObject = { sid: 'a' };
    await services.registry.add('s', { protocol: 'oidc', clientId: 'c', details }, exp);
    (payload.list as number[]).push(2);
    details.sid = 'b';
    ((await services.tokens.get('Grant', 'g'))!.payload.list as number[]).push(3);
    ((await services.interRequest.get('i'))!.list as number[]).push(4);
    (await services.registry.list('s'))[0]!.details!.sid = 'c';
    assert.deepEqual((await services.tokens.get('Grant', 'g'))?.payload, { list: [1] });
    assert.deepEqual(await services.interRequest.get('i'), { list: [1] });
    assert.deepEqual((await services.registry.list('s'))[0]?.details, { sid: 'a' });
    await services.close();
  });
});

describe('createLocalStateServices', () => {
  it('sweeps every DEFAULT_SWEEP_INTERVAL_MS until close() stops it', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = new ManualClock();
    const services = createLocalStateServices(DEFAULT_LOCAL_LIMITS, clock);
    const sessions = services.sessions;
    assert.ok(sessions instanceof LocalSessionStore);
    await sessions.put(session('s1', clock.now() + 10));
    clock.advance(10);
    t.mock.timers.tick(DEFAULT_SWEEP_INTERVAL_MS);
    assert.equal(sessions.stats().sessions, 0);
    await sessions.put(session('s2', clock.now() + 10));
    await services.close();
    clock.advance(10);
    t.mock.timers.tick(DEFAULT_SWEEP_INTERVAL_MS * 10);
    assert.equal(sessions.stats().sessions, 1, 'no sweep after close');
  });


  it('builds every service, and close() can be called twice', async () => {
    const services = createLocalStateServices(DEFAULT_LOCAL_LIMITS);
    for (const name of STATE_SERVICE_NAMES) assert.equal(typeof services[name], 'object', name);
    await services.close();
    await services.close();
  });

  it('rejects a limit that is not a positive integer, naming it', () => {
    assert.throws(() => createLocalStateServices({ ...DEFAULT_LOCAL_LIMITS, maxTokens: 0 }), /state\.local\.maxTokens/);
    assert.throws(() => createLocalStateServices({ ...DEFAULT_LOCAL_LIMITS, maxSessions: 2.5 }), /maxSessions/);
  });

  it('applies each limit to its own service', async () => {
    const clock = new ManualClock();
    const services = createLocalStateServices({ ...DEFAULT_LOCAL_LIMITS, maxRevocations: 2, maxReplayIds: 1 }, clock);
    const exp = clock.now() + 1_000;
    for (const id of ['a', 'b', 'c']) await services.revocations.revoke(id, exp);
    assert.deepEqual((await services.revocations.entries()).map((e) => e.id), ['b', 'c']);
    await services.replay.checkAndSet('ns', 'x', exp);
    await services.replay.checkAndSet('ns', 'y', exp);
    assert.equal(await services.replay.checkAndSet('ns', 'x', exp), true);
    await services.close();
  });

  it('has the documented defaults', () => {
    assert.deepEqual({ ...DEFAULT_LOCAL_LIMITS }, {
      maxSessions: 100_000, maxInterRequests: 50_000, maxTokens: 200_000, maxReplayIds: 100_000,
      maxArtifacts: 10_000, maxRegistryEntries: 100_000, maxRevocations: 50_000, maxFailureKeys: 100_000,
    });
    assert.ok(Object.isFrozen(DEFAULT_LOCAL_LIMITS));
  });
});
