import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { durableStoreCases, rejectsWith, TEST_SCRYPT } from '../store.case.test.js';
import { openDurableStore, SQLITE_FILE } from '../index.js';
import { MIGRATIONS, migrate } from './schema.js';
import { openSqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'cohort-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshFile = () => join(root, `db-${++counter}.db`);

durableStoreCases('sqlite', {
  async createDatabase() {
    const file = freshFile();
    return {
      open: async (options) => openSqliteStore(file, options),
      dispose: async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      },
    };
  },
});

/** Reads the raw database beside the store, to see what the DurableStore interface deliberately hides. */
function raw<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe('sqlite store specifics', () => {
  it('creates a private file in WAL mode with a busy timeout and records its migrations', async () => {
    const file = freshFile();
    const store = openSqliteStore(file, { scrypt: TEST_SCRYPT, now: () => 42 });
    try {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const rows = raw(file, (db) => db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all());
      assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 42 })));
      assert.equal(raw(file, (db) => db.pragma('journal_mode', { simple: true })), 'wal');
    } finally {
      await store.close();
    }
  });

  it('applies each migration once, also when reopened', async () => {
    const file = freshFile();
    await openSqliteStore(file, { scrypt: TEST_SCRYPT }).close();
    const db = new Database(file);
    try {
      assert.deepEqual(migrate(db, () => 0), []);
      const extra = [...MIGRATIONS, { version: 99, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER) STRICT' }];
      const told: string[] = [];
      assert.deepEqual(migrate(db, () => 0, extra, (m) => told.push(`${m.version} ${m.name}`)), [99]);
      assert.deepEqual(migrate(db, () => 0, extra, (m) => told.push(`${m.version} ${m.name}`)), []);
      assert.deepEqual(told, ['99 extra']);
    } finally {
      db.close();
    }
    // Version 99 is unknown to this build: opening must refuse rather than run against a schema it does not know.
    assert.throws(() => openSqliteStore(file, { scrypt: TEST_SCRYPT }), /schema version 99 is newer/);
  });

  it('refuses a file that is not a database with UNAVAILABLE', async () => {
    const file = freshFile();
    writeFileSync(file, 'this is not sqlite, just some text that is long enough to have a header'.repeat(10));
    assert.throws(() => openSqliteStore(file, { scrypt: TEST_SCRYPT }), (err: Error & { code?: string }) => err.code === 'UNAVAILABLE');
  });

  it('stores passwords only as scrypt PHC strings and upgrades them at sign-in', async () => {
    const file = freshFile();
    const store = openSqliteStore(file, { scrypt: TEST_SCRYPT });
    const stronger = openSqliteStore(file, { scrypt: { ...TEST_SCRYPT, cost: 2048 } });
    try {
      await store.users.create({ username: 'alice', password: 'hunter2-but-longer' });
      const hashOf = () => raw(file, (db) => db.prepare('SELECT password_hash FROM users').pluck().get() as string);
      const first = hashOf();
      assert.match(first, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
      assert.ok(!first.includes('hunter2'));
      assert.equal(await stronger.users.verifyPassword('alice', 'wrong'), undefined);
      assert.equal(hashOf(), first, 'a failed sign-in changes nothing');
      assert.ok(await stronger.users.verifyPassword('alice', 'hunter2-but-longer'));
      assert.match(hashOf(), /^\$scrypt\$ln=11,/);
      const upgraded = hashOf();
      assert.ok(await stronger.users.verifyPassword('alice', 'hunter2-but-longer'));
      assert.equal(hashOf(), upgraded, 'a current hash is not rewritten');
    } finally {
      await store.close();
      await stronger.close();
    }
  });

  it('waits for another process holding the write lock instead of failing', async () => {
    const file = freshFile();
    const store = openSqliteStore(file, { scrypt: TEST_SCRYPT });
    // A worker thread stands in for a second process (the CLI while the server runs): it holds a write transaction
    // for holdMs. Without busy_timeout, the write below would fail at once with SQLITE_BUSY.
    const holdMs = 300;
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const Database = require(workerData.module);
      const db = new Database(workerData.file);
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO keys (kid, use, alg, material, created_at) VALUES ('held', 'cookie', 'HS256', 'm', 1)").run();
      parentPort.postMessage('locked');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
      db.exec('COMMIT');
      db.close();
    `, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, holdMs } });
    try {
      const [message] = await Promise.race([
        once(worker, 'message'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('worker did not take the lock')), 5000)),
      ]);
      assert.equal(message, 'locked');
      const started = Date.now();
      await store.keys.add({ kid: 'mine', use: 'cookie', alg: 'HS256', material: 'm', createdAt: 2, retired: false });
      assert.ok(Date.now() - started >= holdMs / 2, 'the write waited for the lock');
      assert.deepEqual((await store.keys.list('cookie')).map((k) => k.kid), ['held', 'mine']);
    } finally {
      await worker.terminate();
      await store.close();
    }
  });
});

describe('openDurableStore', () => {
  it('creates the data directory with mode 0700 and cohort.db inside it', async () => {
    const dataDir = join(root, `data-${++counter}`, 'nested');
    const store = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT });
    try {
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.ok(statSync(join(dataDir, SQLITE_FILE)).isFile());
      await store.users.create({ username: 'persisted', password: 'pw' });
    } finally {
      await store.close();
    }
    const reopened = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist: true });
    try {
      assert.ok(await reopened.users.verifyPassword('persisted', 'pw'));
    } finally {
      await reopened.close();
    }
  });

  it('with mustExist, refuses a directory without a database and creates nothing', async () => {
    const dataDir = join(root, `missing-${++counter}`);
    await rejectsWith(openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist: true }), 'NOT_FOUND', dataDir);
    assert.throws(() => statSync(dataDir), { code: 'ENOENT' });
  });
});
