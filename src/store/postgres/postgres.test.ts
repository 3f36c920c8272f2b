// The PostgreSQL store against a real server this test starts (test/support/postgres.ts): the shared case suite,
// then what only a shared network database has: concurrent migrations, outages and recovery, advisory locks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../../../test/support/postgres.js';
import { buildDefaults } from '../../config/schema.js';
import { StatusRegistry } from '../../ops/status.js';
import { durableStoreCases, rejectsWith, TEST_SCRYPT } from '../store.case.test.js';
import { openDurableStore, storeBackendOf } from '../index.js';
import type { AppliedMigration } from '../options.js';
import { MIGRATIONS, migrate, type Migration } from './schema.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';

const skip = postgresSkipReason() ?? false;
let server: PostgresServer;
before(async () => { if (!skip) server = await startPostgres(); });
after(async () => { await server?.destroy(); });

/** Short timeouts, so outage tests take seconds; a small pool, so reconnection paths are exercised. */
const connection = (url: string) => ({ connectionString: url, poolSize: 3, connectTimeoutMs: 1_000, statementTimeoutMs: 1_000 });
const open = (url: string, extra: Partial<PostgresStoreOptions> = {}) =>
  openPostgresStore({ ...connection(url), scrypt: TEST_SCRYPT, ...extra });

/** A fresh database; its collation is ICU en-US, so any ORDER BY that forgets COLLATE "C" shows up in the suite. */
async function freshDatabase() {
  return server.createDatabase({ icuLocale: 'en-US' });
}

/** Settles `promise`, giving up (as an error) after 3 x `ms` so a hang fails the test instead of stalling it. */
async function within<T>(ms: number, promise: Promise<T>): Promise<{ value?: T; error?: unknown; elapsed: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms * 3} ms`)), ms * 3);
  });
  try {
    const value = await Promise.race([promise, giveUp]);
    return { value, elapsed: Date.now() - started };
  } catch (error) {
    return { error, elapsed: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

describe('postgres', { skip }, () => {
  durableStoreCases('postgres', {
    async createDatabase() {
      const { name, url } = await freshDatabase();
      return { open: (options) => open(url, options), dispose: () => server.dropDatabase(name) };
    },
  });

  describe('postgres store specifics', () => {
    it('records its migrations and keeps usernames unique on their normalised key', async () => {
      const { name, url } = await freshDatabase();
      const store = await open(url, { now: () => 42 });
      try {
        const { rows } = await server.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version', [], name);
        assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: '42' })));
        const index = await server.query<{ indexdef: string }>(
          "SELECT indexdef FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE '%UNIQUE%(username_key)%'", [], name);
        assert.equal(index.rows.length, 1);
        await store.users.create({ username: 'Alice', password: 'pw' });
        const raw = await server.query('SELECT username, username_key, password_hash FROM users', [], name);
        assert.equal(raw.rows[0].username_key, 'alice');
        assert.match(raw.rows[0].password_hash, /^\$scrypt\$ln=10,r=8,p=1\$/);
        // The index itself refuses a second row with the same key, whatever the code above it checks.
        await assert.rejects(server.query(`INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at)
          VALUES ('x', 'ALICE', 'alice', 'h', 0, 0)`, [], name), { code: '23505' });
      } finally {
        await store.close();
        await server.dropDatabase(name);
      }
    });

    it('migrates exactly once when several nodes start on a new database at once', async () => {
      const { name, url } = await freshDatabase();
      // A slow extra migration widens the window in which an unlocked runner would apply it a second time.
      const migrations: Migration[] = [...MIGRATIONS, { version: 99, name: 'slow', sql: 'CREATE TABLE slow (x int); SELECT pg_sleep(0.3)' }];
      const seen: AppliedMigration[] = [];
      try {
        const results = await Promise.all(Array.from({ length: 4 }, () =>
          migrate({ ...connection(url), now: Date.now, migrations, onMigration: (m) => seen.push(m) })));
        assert.deepEqual(results.flat().sort((a, b) => a - b), migrations.map((m) => m.version));
        assert.equal(results.filter((r) => r.length > 0).length, 1, 'one runner applied everything, the others found it done');
        assert.deepEqual(seen.map((m) => m.version), migrations.map((m) => m.version));
        const { rows } = await server.query('SELECT count(*)::int AS n FROM schema_migrations', [], name);
        assert.equal(rows[0].n, migrations.length);
      } finally {
        await server.dropDatabase(name);
      }
      // Stores opening together, as nodes do, through the same path.
      const other = await freshDatabase();
      try {
        const stores = await Promise.all(Array.from({ length: 3 }, () => open(other.url)));
        for (const store of stores) await store.close();
        const { rows } = await server.query('SELECT version FROM schema_migrations ORDER BY version', [], other.name);
        assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      } finally {
        await server.dropDatabase(other.name);
      }
    });

    it('applies each migration in its own transaction: a failure leaves nothing of itself', async () => {
      const { name, url } = await freshDatabase();
      const broken: Migration = { version: 100, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT no_such_function()' };
      try {
        await rejectsWith(migrate({ ...connection(url), now: Date.now, migrations: [...MIGRATIONS, broken] }), 'UNAVAILABLE', 'migration 100 (broken)');
        const { rows } = await server.query("SELECT to_regclass('half') AS half, array_agg(version ORDER BY version) AS versions FROM schema_migrations", [], name);
        assert.equal(rows[0].half, null);
        assert.deepEqual(rows[0].versions, MIGRATIONS.map((m) => m.version));
        // A schema from a newer Cohort is refused rather than used.
        await server.query("INSERT INTO schema_migrations VALUES (999, 'future', 0)", [], name);
        await rejectsWith(open(url), 'UNAVAILABLE', /version 999 is newer/);
      } finally {
        await server.dropDatabase(name);
      }
    });

    it('without migrating, refuses a schema that is not current and names the command that fixes it', async () => {
      const { name, url } = await freshDatabase();
      try {
        await rejectsWith(open(url, { migrate: false }), 'UNAVAILABLE', "run 'cohort db migrate'");
        await (await open(url)).close();
        await (await open(url, { migrate: false })).close();
      } finally {
        await server.dropDatabase(name);
      }
    });

    it('fails to open with UNAVAILABLE naming the server, never its password, when it cannot be used', async () => {
      const closedPort = server.url('postgres').replace(`:${server.port}/`, ':1/');
      const wrongPassword = server.url('postgres').replace(encodeURIComponent(server.password), 'wrong-password');
      const noDatabase = server.url('no_such_database');
      for (const url of [closedPort, wrongPassword, noDatabase]) {
        const { error, elapsed } = await within(1_000, open(url));
        await rejectsWith(Promise.reject(error), 'UNAVAILABLE', `127.0.0.1:${url === closedPort ? 1 : server.port}`);
        assert.ok(!(error as Error).message.includes(server.password) && !(error as Error).message.includes('wrong-password'));
        assert.ok(elapsed < 2_000, `${elapsed} ms`);
      }
    });

    it('rejects calls with UNAVAILABLE while the server is down, and recovers with the same store', async () => {
      const { name, url } = await freshDatabase();
      const store = await open(url);
      const status = new StatusRegistry({ node: { name: 'n', index: 0, role: 'standalone' }, version: 'test' });
      status.register({ name: 'store', critical: true, check: () => store.ping() });
      status.markReady();
      try {
        await store.users.create({ username: 'before', password: 'pw' });
        await store.ping(); // leaves idle pooled connections, which the shutdown terminates: no 'error' may escape
        await server.stop();
        await delay(100);
        const calls: Array<() => Promise<unknown>> = [() => store.ping(), () => store.users.getByUsername('before'),
          () => store.users.verifyPassword('before', 'pw'), () => store.clients.list(), () => store.keys.list('sig'),
          () => store.audit!.list()];
        for (const call of calls) {
          const { error, elapsed } = await within(1_000, call());
          await rejectsWith(Promise.reject(error), 'UNAVAILABLE');
          assert.ok(elapsed < 1_500, `rejected after ${elapsed} ms`);
        }
        const down = await status.snapshot();
        assert.equal(down.components.store?.status, 'FAILED');
        assert.equal((await status.lbStatus()).ok, false);

        await server.start();
        assert.ok(await store.users.verifyPassword('before', 'pw'));
        await store.users.create({ username: 'after', password: 'pw' });
        assert.deepEqual((await store.users.list()).map((u) => u.username), ['after', 'before']);
        assert.equal((await status.snapshot()).components.store?.status, 'OK');
        assert.equal((await status.lbStatus()).ok, true);
      } finally {
        await server.start();
        await store.close();
        await server.dropDatabase(name);
      }
    });

    it('bounds every call, and close(), by the timeouts when the server hangs; recovers when it answers again', async () => {
      const { name, url } = await freshDatabase();
      const store = await open(url, { connectTimeoutMs: 300, statementTimeoutMs: 300 });
      const closer = await open(url);
      try {
        await Promise.all([store.ping(), closer.ping(), closer.users.list()]);
        server.pause();
        // A hung server never closes its side: close() must cut the sockets, or a stopping node would never exit.
        const closing = await within(1_000, closer.close());
        assert.equal(closing.error, undefined);
        assert.ok(closing.elapsed < 1_500, `close() took ${closing.elapsed} ms`);
        // The pooled connection waits for an answer (statement timeout + margin); a new one for its handshake.
        const calls: Array<() => Promise<unknown>> = [() => store.ping(), () => store.users.list(), () => store.ping()];
        for (const call of calls) {
          const { error, elapsed } = await within(1_500, call());
          await rejectsWith(Promise.reject(error), 'UNAVAILABLE');
          assert.ok(elapsed < 2_500, `rejected after ${elapsed} ms`);
        }
        server.resume();
        await store.ping();
        assert.deepEqual(await store.users.list(), []);
      } finally {
        server.resume();
        await store.close();
        await closer.close();
        await server.dropDatabase(name);
      }
    });

    it('withLock lets one holder at a time in, across connections', async () => {
      const { name, url } = await freshDatabase();
      const [a, b] = await Promise.all([open(url), open(url)]);
      try {
        const events: string[] = [];
        const hold = (who: string) => async () => {
          events.push(`${who} in`);
          await delay(150);
          events.push(`${who} out`);
          return who;
        };
        const results = await Promise.all([a.withLock!('bootstrap', hold('a')), b.withLock!('bootstrap', hold('b'))]);
        assert.deepEqual(results, ['a', 'b']);
        assert.ok(events[0]!.endsWith('in') && events[1]!.endsWith('out') && events[0]!.split(' ')[0] === events[1]!.split(' ')[0],
          events.join(', '));
        // A different name is a different lock: no waiting.
        const started = Date.now();
        await Promise.all([a.withLock!('one', () => delay(150)), b.withLock!('two', () => delay(150))]);
        assert.ok(Date.now() - started < 290, 'different names do not wait for each other');
      } finally {
        await a.close();
        await b.close();
        await server.dropDatabase(name);
      }
    });
  });

  describe('openDurableStore with store.backend = postgres', () => {
    it('opens the configured database, not a file in the data directory', async () => {
      const { name, url } = await freshDatabase();
      const config = buildDefaults();
      config.store = { ...config.store, backend: 'postgres', postgres: { ...config.store.postgres, url } };
      const dataDir = join(tmpdir(), `cohort-pg-unused-${process.pid}`);
      try {
        // mustExist (the read-only CLI commands) does not migrate, so a new database is refused...
        await rejectsWith(openDurableStore(dataDir, { scrypt: TEST_SCRYPT, backend: storeBackendOf(config), mustExist: true }),
          'UNAVAILABLE', 'cohort db migrate');
        const applied: number[] = [];
        const store = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT, backend: storeBackendOf(config), onMigration: (m) => applied.push(m.version) });
        try {
          assert.deepEqual(applied, MIGRATIONS.map((m) => m.version));
          await store.users.create({ username: 'configured', password: 'pw' });
        } finally {
          await store.close();
        }
        assert.equal(existsSync(dataDir), false);
        // ...and once migrated, it opens.
        const again = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT, backend: storeBackendOf(config), mustExist: true });
        try {
          assert.ok(await again.users.verifyPassword('configured', 'pw'));
        } finally {
          await again.close();
        }
      } finally {
        await server.dropDatabase(name);
      }
    });
  });
});
