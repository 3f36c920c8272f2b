// The postgres sessions backend against a real server (test/support/postgres.ts): the shared SessionStore cases,
// then what only a durable shared database adds: a restarted node sees the sessions, the purge really deletes,
// and an outage fails fast with StateUnavailableError and heals by itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../../../test/support/postgres.js';
import { migrate } from '../../store/postgres/schema.js';
import { ManualClock } from '../manual-clock.js';
import { sessionStoreCases } from '../sessions.case.test.js';
import { StateUnavailableError, type SessionRecord } from '../types.js';
import { PostgresSessionStore } from './postgres-session-store.js';

const skip = postgresSkipReason() ?? false;
let server: PostgresServer;
/** One migrated database (ICU en-US collation, so an ORDER BY relying on the locale would show up). */
let db: { name: string; url: string };
before(async () => {
  if (skip) return;
  server = await startPostgres();
  db = await server.createDatabase({ icuLocale: 'en-US' });
  await migrate({ connectionString: db.url, poolSize: 1, connectTimeoutMs: 5_000, statementTimeoutMs: 5_000, now: Date.now });
});
after(async () => { await server?.destroy(); });

/** Short timeouts, so the outage case takes seconds; no purge timer unless a case asks. */
const open = (clock?: ManualClock) => new PostgresSessionStore({
  connectionString: db.url, poolSize: 3, connectTimeoutMs: 1_000, statementTimeoutMs: 1_000, purgeIntervalMs: 0,
  ...(clock ? { clock } : {}),
});

const session = (id: string, expiresAt: number, userId = 'alice'): SessionRecord =>
  ({ id, uid: `uid-${id}`, userId, payload: { id, nested: { list: [1, 'two', null, true] } }, expiresAt, owner: 0 });

describe('postgres sessions', { skip }, () => {
  // The cases' time is an injected clock: expiry is judged by the clock the store is given, not the server's.
  sessionStoreCases('postgres', async () => {
    await server.query('TRUNCATE sessions', [], db.name);
    const clock = new ManualClock(Date.now());
    const service = open(clock);
    return {
      service,
      now: () => clock.now(),
      advance: async (ms) => clock.advance(ms),
      close: () => service.close(),
    };
  });

  describe('postgres sessions specifics', () => {
    it('a store opened again on the same database (a node restart) sees the sessions', async () => {
      await server.query('TRUNCATE sessions', [], db.name);
      const first = open();
      const record = session('restart-1', Date.now() + 60_000);
      await first.put(record);
      await first.put(session('restart-2', Date.now() + 60_000, 'bob'));
      await first.close();
      await assert.rejects(first.get('restart-1'), StateUnavailableError);
      const second = open();
      try {
        assert.deepEqual(await second.get('restart-1'), record);
        assert.deepEqual(await second.findByUid('uid-restart-1'), record);
        assert.deepEqual((await second.listByUser('alice')).map((r) => r.id), ['restart-1']);
        assert.equal(await second.count(), 2);
      } finally {
        await second.close();
      }
    });

    it('purges expired rows from the table in bounded batches, never touching live ones', async () => {
      await server.query('TRUNCATE sessions', [], db.name);
      const clock = new ManualClock(Date.now());
      const store = open(clock);
      try {
        await store.put(session('short', clock.now() + 100));
        await store.put(session('long', clock.now() + 10_000));
        clock.advance(200);
        const rows = async () => (await server.query<{ id: string }>('SELECT id FROM sessions ORDER BY id', [], db.name)).rows.map((r) => r.id);
        assert.deepEqual(await rows(), ['long', 'short'], 'an expired row stays until the purge');
        assert.equal(await store.get('short'), undefined, '... but is never returned');
        assert.equal(await store.purgeExpired(), 1);
        assert.deepEqual(await rows(), ['long']);
        assert.equal(await store.purgeExpired(), 0);
      } finally {
        await store.close();
      }
    });

    it('the purge timer runs by itself', async () => {
      await server.query('TRUNCATE sessions', [], db.name);
      const clock = new ManualClock(Date.now());
      const store = new PostgresSessionStore({
        connectionString: db.url, poolSize: 2, connectTimeoutMs: 1_000, statementTimeoutMs: 1_000, purgeIntervalMs: 50, clock,
      });
      try {
        await store.put(session('soon', clock.now() + 100));
        clock.advance(200);
        const deadline = Date.now() + 5_000;
        while ((await server.query('SELECT 1 FROM sessions', [], db.name)).rowCount !== 0) {
          assert.ok(Date.now() < deadline, 'the timer never purged the expired row');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await store.close();
      }
    });

    it('database stopped: every method fails quickly with StateUnavailableError; back: the same store works', async () => {
      await server.query('TRUNCATE sessions', [], db.name);
      const store = open();
      try {
        await store.put(session('before', Date.now() + 60_000));
        await server.stop();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store.put(session('during', Date.now() + 60_000))],
          ['get', () => store.get('before')],
          ['findByUid', () => store.findByUid('uid-before')],
          ['delete', () => store.delete('before')],
          ['listByUser', () => store.listByUser('alice')],
          ['list', () => store.list()],
          ['count', () => store.count()],
          ['purgeExpired', () => store.purgeExpired()],
        ];
        for (const [name, call] of calls) {
          const started = Date.now();
          await assert.rejects(call(), StateUnavailableError, `${name} must reject with StateUnavailableError`);
          assert.ok(Date.now() - started < 3_000, `${name} took ${Date.now() - started} ms`);
        }
        await server.start();
        assert.equal((await store.get('before'))?.id, 'before');
        await store.put(session('after', Date.now() + 60_000));
        assert.equal(await store.count(), 2);
      } finally {
        await server.start();
        await store.close();
      }
    });
  });
});
