// The redis backend while its server misbehaves, against a real redis-server this file starts, freezes, kills and
// restarts: every call fails with StateUnavailableError within a bound (never hangs, never crashes the process),
// the outage is logged once, and the same service objects work again once the server is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { StateUnavailableError } from '../types.js';
import { createRedisStateServices, type RedisLogger, type RedisStateServices, type RevocationEvent } from './index.js';
import { RedisTestServer, redisServerMissing } from './test-server.js';

const COMMAND_TIMEOUT_MS = 400;
/** A call against a server that is gone must fail well inside the command timeout: nothing should wait at all. */
const FAIL_FAST_MS = 150;

/** One call of every operation of every service, plus the health check. */
function everyOperation(s: RedisStateServices): Record<string, () => Promise<unknown>> {
  const exp = Date.now() + 60_000;
  return {
    'sessions.put': () => s.sessions.put({ id: 's1', uid: 'u1', userId: 'alice', payload: {}, expiresAt: exp }),
    'sessions.get': () => s.sessions.get('s1'),
    'sessions.findByUid': () => s.sessions.findByUid('u1'),
    'sessions.listByUser': () => s.sessions.listByUser('alice'),
    'sessions.list': () => s.sessions.list({ limit: 10 }),
    'sessions.count': () => s.sessions.count(),
    'sessions.delete': () => s.sessions.delete('s1'),
    'interRequest.put': () => s.interRequest.put('i1', { a: 1 }, exp),
    'interRequest.get': () => s.interRequest.get('i1'),
    'interRequest.delete': () => s.interRequest.delete('i1'),
    'tokens.put': () => s.tokens.put({ model: 'AuthorizationCode', id: 'c1', payload: {}, expiresAt: exp, grantId: 'g1' }),
    'tokens.get': () => s.tokens.get('AuthorizationCode', 'c1'),
    'tokens.findByUid': () => s.tokens.findByUid('Session', 'u1'),
    'tokens.findByUserCode': () => s.tokens.findByUserCode('DeviceCode', 'U'),
    'tokens.consume': () => s.tokens.consume('AuthorizationCode', 'c1'),
    'tokens.delete': () => s.tokens.delete('AuthorizationCode', 'c1'),
    'tokens.revokeByGrantId': () => s.tokens.revokeByGrantId('g1'),
    'replay.checkAndSet': () => s.replay.checkAndSet('saml', 'id-1', exp),
    'artifacts.put': () => s.artifacts.put('h1', 'm', exp),
    'artifacts.take': () => s.artifacts.take('h1'),
    'registry.add': () => s.registry.add('s1', { protocol: 'oidc', clientId: 'app' }, exp),
    'registry.list': () => s.registry.list('s1'),
    'registry.remove': () => s.registry.remove('s1'),
    'revocations.revoke': () => s.revocations.revoke('s9', exp),
    'revocations.isRevoked': () => s.revocations.isRevoked('s9'),
    'revocations.entries': () => s.revocations.entries(),
    'loginFailures.record': () => s.loginFailures.record('user:alice', 60_000),
    'loginFailures.count': () => s.loginFailures.count('user:alice', 60_000),
    'loginFailures.reset': () => s.loginFailures.reset('user:alice'),
    ping: () => s.ping(),
  };
}

/** Runs every operation at once; returns the slowest rejection in ms, failing on any other outcome or a slow one. */
async function expectAllUnavailable(s: RedisStateServices, boundMs: number): Promise<number> {
  const timings = await Promise.all(Object.entries(everyOperation(s)).map(async ([name, call]) => {
    const started = performance.now();
    await assert.rejects(call(), StateUnavailableError, name);
    const ms = performance.now() - started;
    assert.ok(ms < boundMs, `${name} took ${ms.toFixed(0)} ms, bound ${boundMs} ms`);
    return ms;
  }));
  return Math.max(...timings);
}

describe('redis backend: outages', { skip: redisServerMissing() }, () => {
  let server: RedisTestServer;
  let services: RedisStateServices;
  const events: Array<{ level: string; event: unknown; connection: unknown }> = [];
  const logger: RedisLogger = {
    warn: (d) => events.push({ level: 'warn', event: d.event, connection: d.connection }),
    info: (d) => events.push({ level: 'info', event: d.event, connection: d.connection }),
  };
  const escaped: unknown[] = [];
  const escape = (error: unknown) => escaped.push(error);
  const heard: RevocationEvent[] = [];

  before(async () => {
    process.on('unhandledRejection', escape);
    process.on('uncaughtException', escape);
    server = await RedisTestServer.start();
    services = createRedisStateServices({ url: server.url, keyPrefix: 'outage:', commandTimeoutMs: COMMAND_TIMEOUT_MS, logger });
    await services.waitReady(5_000);
    await services.revocations.onRevoked((e) => heard.push(e));
  });
  after(async () => {
    await services?.close();
    await server?.dispose();
    process.off('unhandledRejection', escape);
    process.off('uncaughtException', escape);
  });

  it('works before the outage', async () => {
    for (const [name, call] of Object.entries(everyOperation(services))) await assert.doesNotReject(call(), name);
  });

  it('bounds every call by commandTimeoutMs while the server hangs', async (t) => {
    server.freeze(true);
    try {
      const slowest = await expectAllUnavailable(services, COMMAND_TIMEOUT_MS + 250);
      t.diagnostic(`frozen server: slowest rejection ${slowest.toFixed(0)} ms (commandTimeoutMs ${COMMAND_TIMEOUT_MS})`);
    } finally {
      server.freeze(false);
    }
    await services.ping();
  });

  it('fails at once, not after a timeout, while reconnecting to a server that accepts but never answers', async (t) => {
    const admin = new Redis(server.url);
    try {
      await admin.client('KILL', 'TYPE', 'normal'); // drops the services' connection, not this one
      server.freeze(true); // before the reconnect (100 ms later): its TCP handshake succeeds, its ready check hangs
      await sleep(300);
      const slowest = await expectAllUnavailable(services, FAIL_FAST_MS);
      t.diagnostic(`reconnecting to a frozen server: slowest rejection ${slowest.toFixed(1)} ms`);
    } finally {
      server.freeze(false);
      admin.disconnect();
    }
    await services.waitReady(5_000);
    await services.ping();
  });

  it('settles calls in flight when the server dies, then fails every call fast', async (t) => {
    const seen = events.length;
    const exp = Date.now() + 60_000;
    const inFlight = Array.from({ length: 50 }, (_, i) => services.tokens.put({ model: 'AccessToken', id: `a${i}`, payload: {}, expiresAt: exp })
      .then(() => 'ok', (error: unknown) => error));
    const started = performance.now();
    await server.stop();
    const outcomes = await Promise.all(inFlight);
    const settledMs = performance.now() - started;
    for (const o of outcomes) assert.ok(o === 'ok' || o instanceof StateUnavailableError, String(o));
    assert.ok(settledMs < COMMAND_TIMEOUT_MS + 250, `in-flight calls took ${settledMs.toFixed(0)} ms to settle`);
    const slowest = await expectAllUnavailable(services, FAIL_FAST_MS);
    await sleep(1_500); // several reconnect attempts, each an 'error' event from ioredis
    await expectAllUnavailable(services, FAIL_FAST_MS);
    t.diagnostic(`server killed: ${outcomes.filter((o) => o === 'ok').length}/50 in-flight writes landed, all settled in `
      + `${settledMs.toFixed(0)} ms; slowest rejection after ${slowest.toFixed(1)} ms`);
    assert.deepEqual(events.slice(seen).filter((e) => e.level === 'warn' && e.connection === 'redis'),
      [{ level: 'warn', event: 'state.redis_unavailable', connection: 'redis' }], 'one warning per outage, not per retry');
  });

  it('serves again, with the same objects, once the server is back', async (t) => {
    const started = performance.now();
    await server.restart();
    const restarted = performance.now();
    for (let i = 0; ; i++) {
      try {
        await services.ping();
        break;
      } catch (error) {
        assert.ok(error instanceof StateUnavailableError);
        assert.ok(i < 100, 'not back within 5 s');
        await sleep(50);
      }
    }
    const back = performance.now();
    // The new server has no data and no cached scripts: EVALSHA falls back to EVAL.
    for (const [name, call] of Object.entries(everyOperation(services))) await assert.doesNotReject(call(), name);
    await services.tokens.put({ model: 'AuthorizationCode', id: 'c2', payload: {}, expiresAt: Date.now() + 60_000 });
    assert.equal(await services.tokens.consume('AuthorizationCode', 'c2'), 'consumed');
    // The subscriber reconnects on its own schedule; a revocation published before it is back is lost (by design).
    for (let i = 0; !heard.some((e) => e.id === 'after') && i < 100; i++) {
      await services.revocations.revoke('after', Date.now() + 60_000);
      await sleep(20);
    }
    assert.ok(heard.some((e) => e.id === 'after'), 'the revocation subscription resumed by itself');
    assert.ok(events.some((e) => e.level === 'info' && e.event === 'state.redis_ready' && e.connection === 'redis'));
    t.diagnostic(`server restarted in ${(restarted - started).toFixed(0)} ms; calls succeeded ${(back - restarted).toFixed(0)} ms later`);
    assert.deepEqual(escaped, [], 'no error escaped as unhandled');
  });
});
