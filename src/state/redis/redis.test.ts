// The redis backend against a real redis-server started for this file: every shared case suite, on a standalone
// server and on a one-node Redis Cluster (which enforces the same-slot rule for scripts and multi-key commands,
// so a key layout that would fail on a real cluster fails here), then what only this backend promises.
// Outage behaviour is in redis-outage.test.ts. Skipped, naming the reason, only when redis-server is not installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { buildDefaults } from '../../config/schema.js';
import type { HarnessFactory } from '../case-harness.js';
import { createNodeState } from '../index.js';
import { artifactStoreCases } from '../artifacts.case.test.js';
import { interRequestStoreCases } from '../inter-request.case.test.js';
import { loginFailureCounterCases } from '../login-failures.case.test.js';
import { sessionRegistryCases } from '../registry.case.test.js';
import { replayCacheCases } from '../replay.case.test.js';
import { revocationListCases } from '../revocations.case.test.js';
import { sessionStoreCases } from '../sessions.case.test.js';
import { tokenStoreCases } from '../tokens.case.test.js';
import type { StateServiceName, StateServices } from '../types.js';
import {
  createRedisStateServices, RedisSessionStore, redisOptionsFromConfig, type RedisStateOptions, type RedisStateServices,
  type RevocationEvent,
} from './index.js';
import { RedisTestServer, redisServerMissing } from './test-server.js';

const missing = redisServerMissing();
let prefixes = 0;
const freshPrefix = () => `t${process.pid}-${++prefixes}:`;

/** Every shared suite through createRedisStateServices, each case on a fresh key prefix and its own connection. */
function allSuites(label: string, connect: () => RedisStateOptions): void {
  const harness = <K extends StateServiceName>(name: K): HarnessFactory<StateServices[K]> => async () => {
    const services = createRedisStateServices({ ...connect(), keyPrefix: freshPrefix(), commandTimeoutMs: 2_000 });
    await services.waitReady(5_000);
    return {
      service: services[name],
      now: () => Date.now(),
      advance: (ms) => sleep(ms),
      close: () => services.close(),
    };
  };
  sessionStoreCases(label, harness('sessions'));
  interRequestStoreCases(label, harness('interRequest'));
  tokenStoreCases(label, harness('tokens'));
  replayCacheCases(label, harness('replay'));
  artifactStoreCases(label, harness('artifacts'));
  sessionRegistryCases(label, harness('registry'));
  revocationListCases(label, harness('revocations'));
  loginFailureCounterCases(label, harness('loginFailures'));
}

// The cases sleep to let records expire; on a fresh prefix each they are independent, so they run side by side.
describe('redis backend, standalone server', { skip: missing, concurrency: 16 }, () => {
  let server: RedisTestServer;
  before(async () => {
    server = await RedisTestServer.start();
  });
  after(() => server?.dispose());
  allSuites('redis', () => ({ url: server.url }));
});

describe('redis backend, one-node Redis Cluster', { skip: missing, concurrency: 16 }, () => {
  let server: RedisTestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cohort-redis-cluster-'));
    server = await RedisTestServer.start(['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--dir', dir,
      '--cluster-config-file', 'nodes.conf']);
    const admin = new Redis(server.url);
    try {
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (let i = 0; !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) {
        assert.ok(i < 250, 'cluster did not reach state ok within 5 s');
        await sleep(20);
      }
    } finally {
      admin.disconnect();
    }
  });
  after(async () => {
    await server?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  allSuites('redis cluster', () => ({ clusterNodes: [{ host: '127.0.0.1', port: server.port }] }));
});

describe('redis backend: what only it promises', { skip: missing }, () => {
  let server: RedisTestServer;
  let admin: Redis;
  const open: RedisStateServices[] = [];
  const services = async (options: RedisStateOptions = {}): Promise<RedisStateServices> => {
    const s = createRedisStateServices({ url: server.url, keyPrefix: options.keyPrefix ?? freshPrefix(), ...options });
    open.push(s);
    await s.waitReady(5_000);
    return s;
  };
  before(async () => {
    server = await RedisTestServer.start();
    admin = new Redis(server.url);
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    admin?.disconnect();
    await server?.dispose();
  });

  it('caps revocations first in, first out, deleting what falls off', async () => {
    const prefix = freshPrefix();
    const s = await services({ keyPrefix: prefix, limits: { maxRevocations: 3 } });
    const exp = Date.now() + 10_000;
    for (const id of ['r1', 'r2', 'r3']) await s.revocations.revoke(id, exp);
    await s.revocations.isRevoked('r1'); // reading must not save it
    await s.revocations.revoke('r1', exp + 1_000); // nor revoking it again: it keeps its place, gains expiry
    await s.revocations.revoke('r4', exp);
    assert.equal(await s.revocations.isRevoked('r1'), false);
    assert.deepEqual(await s.revocations.entries(), [
      { id: 'r2', expiresAt: exp }, { id: 'r3', expiresAt: exp }, { id: 'r4', expiresAt: exp },
    ]);
    assert.equal(await admin.zcard(`${prefix}{rv}:order`), 3);
    assert.equal(await admin.exists(`${prefix}{rv}:e:r1`), 0, 'the evicted entry key is deleted too');
    assert.throws(() => createRedisStateServices({ limits: { maxRevocations: 0 } }), /maxRevocations/);
  });

  it('lets exactly one of 20 nodes win a consume, a replay check and an artifact', async () => {
    const keyPrefix = freshPrefix();
    const nodes = await Promise.all(Array.from({ length: 20 }, () => services({ keyPrefix })));
    const exp = Date.now() + 10_000;
    await nodes[0]!.tokens.put({ model: 'AuthorizationCode', id: 'c1', payload: { scope: 'openid' }, expiresAt: exp });
    await nodes[0]!.artifacts.put('h1', '<Response/>', exp);
    const [consumed, fresh, taken] = await Promise.all([
      Promise.all(nodes.map((n) => n.tokens.consume('AuthorizationCode', 'c1'))),
      Promise.all(nodes.map((n) => n.replay.checkAndSet('saml', 'id-1', exp))),
      Promise.all(nodes.map((n) => n.artifacts.take('h1'))),
    ]);
    assert.equal(consumed.filter((r) => r === 'consumed').length, 1);
    assert.equal(consumed.filter((r) => r === 'already_consumed').length, 19);
    assert.equal(fresh.filter(Boolean).length, 1);
    assert.deepEqual(taken.filter((m) => m !== undefined), ['<Response/>']);
    const pttl = await admin.pttl(`${keyPrefix}t:17:AuthorizationCode:c1`);
    assert.ok(pttl > 9_000 && pttl <= 10_000, `consume keeps the TTL, pttl=${pttl}`);
  });

  it('gives every key the prefix and a TTL, and keeps prefixes apart', async () => {
    const prefix = freshPrefix();
    const a = await services({ keyPrefix: prefix });
    const b = await services();
    const exp = Date.now() + 60_000;
    await a.sessions.put({ id: 's1', uid: 'u1', userId: 'alice', payload: {}, expiresAt: exp });
    await a.interRequest.put('i1', { x: 1 }, exp);
    await a.tokens.put({ model: 'DeviceCode', id: 'd1', payload: {}, expiresAt: exp, grantId: 'g', uid: 'u', userCode: 'U' });
    await a.tokens.consume('DeviceCode', 'd1');
    await a.replay.checkAndSet('jti', 'j1', exp);
    await a.artifacts.put('h1', 'm', exp);
    await a.registry.add('s1', { protocol: 'oidc', clientId: 'app' }, exp);
    await a.revocations.revoke('s0', exp);
    await a.loginFailures.record('user:alice', 60_000);
    await a.sessions.list();
    const keys = await admin.keys('*');
    const mine = keys.filter((k) => k.startsWith(prefix));
    // sessions 5 (record, uid, user, created, expires), interRequest 1, tokens 4 (record, uid, userCode, grant),
    // replay 1, artifacts 1, registry 1, revocations 2 (order, entry), loginFailures 1
    assert.equal(mine.length, 16, mine.join(' '));
    for (const key of mine) assert.ok(await admin.pttl(key) > 0, `${key} has no TTL`);
    assert.equal(await b.sessions.get('s1'), undefined);
    assert.equal(await b.sessions.count(), 0);
    assert.equal(await b.tokens.findByUserCode('DeviceCode', 'U'), undefined);
    assert.equal(await b.revocations.isRevoked('s0'), false);
    assert.equal(await b.loginFailures.count('user:alice', 60_000), 0);
  });

  it('broadcasts each revocation to the subscribers of the same prefix only', async () => {
    const keyPrefix = freshPrefix();
    const [listener, revoker, other] = [await services({ keyPrefix }), await services({ keyPrefix }), await services()];
    const heard: RevocationEvent[] = [];
    const stop = await listener.revocations.onRevoked((e) => heard.push(e));
    const exp = Date.now() + 10_000;
    await other.revocations.revoke('elsewhere', exp);
    await revoker.revocations.revoke('s1', exp);
    for (let i = 0; heard.length === 0 && i < 100; i++) await sleep(10);
    assert.deepEqual(heard, [{ id: 's1', expiresAt: exp }]);
    await stop();
    await revoker.revocations.revoke('s2', exp);
    await sleep(50);
    assert.equal(heard.length, 1, 'nothing after unsubscribing');
  });

  it('heals a stale index: a session recreated under the same id is listed once, in its new place', async () => {
    const s = await services();
    const now = Date.now();
    await s.sessions.put({ id: 'a', uid: 'ua', userId: 'alice', payload: {}, expiresAt: now + 150 });
    await s.sessions.put({ id: 'b', uid: 'ub', userId: 'alice', payload: {}, expiresAt: now + 10_000 });
    await sleep(200);
    await s.sessions.put({ id: 'a', uid: 'ua2', userId: 'alice', payload: { n: 2 }, expiresAt: Date.now() + 10_000 });
    assert.deepEqual((await s.sessions.list()).items.map((r) => r.id), ['b', 'a']);
    assert.equal(await s.sessions.findByUid('ua'), undefined);
    assert.equal((await s.sessions.findByUid('ua2'))?.payload.n, 2);
    assert.equal(await s.sessions.count(), 2);
  });

  it('refuses a prefix with braces, a non-redis URL and an infinite expiry', async () => {
    assert.throws(() => createRedisStateServices({ keyPrefix: 'a{b}:' }), /keyPrefix/);
    assert.throws(() => createRedisStateServices({ url: 'http://127.0.0.1:6379' }), /redis:\/\//);
    const s = await services();
    await assert.rejects(s.interRequest.put('i', {}, Infinity), RangeError);
    await assert.rejects(s.loginFailures.record('k', 0), RangeError);
  });

  it('is what createNodeState builds for the services configured redis, with a critical ping check', async () => {
    const config = buildDefaults();
    config.state.redis.url = server.url;
    config.state.redis.keyPrefix = freshPrefix();
    config.state.backend.sessions = 'redis';
    config.state.backend.revocations = 'redis';
    const node = createNodeState(config, undefined);
    try {
      assert.ok(node.services.sessions instanceof RedisSessionStore);
      assert.equal(node.services.tokens.constructor.name, 'LocalTokenStore');
      assert.deepEqual(node.checks?.map((c) => [c.name, c.critical]), [['redis', true]]);
      for (let i = 0; ; i++) {
        const failed = await node.checks![0]!.check().then(() => false, () => true);
        if (!failed) break;
        assert.ok(i < 100, 'redis check not passing within 2 s');
        await sleep(20);
      }
      await node.services.sessions.put({ id: 's1', uid: 'u1', payload: {}, expiresAt: Date.now() + 10_000 });
      assert.equal(await node.liveSessions(), 1);
    } finally {
      await node.services.close();
    }
  });

  it('maps state.redis.* to standalone, Sentinel and Cluster connections', () => {
    const config = buildDefaults();
    config.state.redis.password = 'pw';
    assert.deepEqual(redisOptionsFromConfig(config), {
      url: 'redis://127.0.0.1:6379', password: 'pw', keyPrefix: 'cohort:', commandTimeoutMs: 1_000,
      limits: { maxRevocations: 50_000 },
    });
    config.state.redis.sentinels = 's1:26379, [::1]:26380';
    config.state.redis.sentinelName = 'primary';
    const sentinel = redisOptionsFromConfig(config);
    assert.deepEqual([sentinel.sentinels, sentinel.sentinelName], [[{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }], 'primary']);
    config.state.redis.sentinels = '';
    config.state.redis.cluster = true;
    config.state.redis.url = 'redis://r1:7000';
    assert.deepEqual(redisOptionsFromConfig(config).clusterNodes, [{ host: 'r1', port: 7000 }]);
  });

  it('finds the primary through a Sentinel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-redis-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `sentinel monitor primary 127.0.0.1 ${server.port} 1\n`);
    const sentinel = await RedisTestServer.start(['--sentinel', '--dir', dir], conf);
    try {
      const s = await services({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinelName: 'primary' });
      await s.ping();
      await s.interRequest.put('via-sentinel', { ok: true }, Date.now() + 10_000);
      assert.equal(await s.tokens.consume('AuthorizationCode', 'none'), 'not_found');
      const direct = await services({ keyPrefix: (await admin.keys('*i:via-sentinel'))[0]!.replace('i:via-sentinel', '') });
      assert.deepEqual(await direct.interRequest.get('via-sentinel'), { ok: true });
    } finally {
      await sentinel.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
