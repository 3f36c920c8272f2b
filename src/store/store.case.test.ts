// The behaviour every DurableStore backend must have. A backend's test calls durableStoreCases() with a harness that
// makes empty databases (sqlite/sqlite.test.ts, postgres/postgres.test.ts). Not run on its own: see
// scripts/run-tests.js.
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScryptParams } from '../auth/password.js';
import type { DurableStoreOptions } from './options.js';
import { auditLogCases } from './audit.case.test.js';
import { portabilityCases } from './portability.case.test.js';
import { serviceProviderCases } from './service-providers.case.test.js';
import { configCases } from './config.case.test.js';
import { StoreError, type DurableStore, type KeyRecord } from './types.js';

/** Cheap parameters so the suite runs fast; production uses DEFAULT_SCRYPT. */
export const TEST_SCRYPT: ScryptParams = { cost: 1024, blockSize: 8, parallelization: 1, keyLength: 32, maxMemoryMb: 16 };

export interface TestDatabase {
  /** Opens a connection to this database; may be called several times (several processes or nodes sharing it). */
  open(options: DurableStoreOptions): Promise<DurableStore>;
  /** Removes the database; called after every connection opened on it is closed. */
  dispose(): Promise<void>;
}

export interface DurableStoreHarness {
  /** A new, empty database. */
  createDatabase(): Promise<TestDatabase>;
}

/** Asserts that `promise` rejects with a StoreError of `code` whose message mentions `mentions`, if given. */
export async function rejectsWith(promise: Promise<unknown>, code: StoreError['code'], mentions?: string | RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof mentions === 'string') assert.ok(err.message.includes(mentions), `'${err.message}' lacks '${mentions}'`);
    else if (mentions) assert.match(err.message, mentions);
    return true;
  });
}

/** A clock tests move by hand. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** What a case gets: a store on a fresh database, the clock that store uses, and a way to open more connections. */
export interface CaseContext {
  store: DurableStore;
  clock: ReturnType<typeof manualClock>;
  open: TestDatabase['open'];
}

/** Runs a case's body on a fresh database and closes everything it opened, also when it fails. */
export type WithDatabase = (body: (ctx: CaseContext) => Promise<void>) => Promise<void>;

export function durableStoreCases(name: string, harness: DurableStoreHarness): void {
  const withDatabase: WithDatabase = async (body) => {
    const database = await harness.createDatabase();
    const opened: DurableStore[] = [];
    const open: TestDatabase['open'] = async (options) => {
      const store = await database.open(options);
      opened.push(store);
      return store;
    };
    const clock = manualClock();
    try {
      const store = await open({ scrypt: TEST_SCRYPT, now: clock.now });
      await body({ store, clock, open });
    } finally {
      for (const store of opened) await store.close();
      await database.dispose();
    }
  };

  describe(`DurableStore: ${name}`, () => {
    describe('users', () => {
      it('creates a user with defaults and finds it by id and, case-insensitively, by name', () => withDatabase(async ({ store, clock }) => {
        const user = await store.users.create({ username: 'Alice', password: 'correct horse' });
        assert.match(user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.deepEqual(user, {
          id: user.id, username: 'Alice', groups: [], roles: [], disabled: false, mustChangePassword: false,
          createdAt: clock.now(), updatedAt: clock.now(),
        });
        assert.deepEqual(await store.users.getById(user.id), user);
        assert.deepEqual(await store.users.getByUsername('alice'), user);
        assert.deepEqual(await store.users.getByUsername('ALICE'), user);
        assert.equal(await store.users.getByUsername('bob'), undefined);
        assert.equal(await store.users.getById('00000000-0000-4000-8000-000000000000'), undefined);
        assert.equal(await store.users.getByUsername('no spaces allowed'), undefined);
      }));

      it('keeps email, display name, groups, roles and the must-change flag', () => withDatabase(async ({ store }) => {
        const user = await store.users.create({
          username: 'bob', password: 'pw-bob-1', email: 'bob@example.com', displayName: '  Bob Builder ',
          groups: ['staff', 'admins', 'staff'], roles: ['admin'], mustChangePassword: true,
        });
        assert.equal(user.email, 'bob@example.com');
        assert.equal(user.displayName, 'Bob Builder');
        assert.deepEqual(user.groups, ['staff', 'admins']);
        assert.deepEqual(user.roles, ['admin']);
        assert.equal(user.mustChangePassword, true);
        assert.deepEqual(await store.users.getByUsername('bob'), user);
      }));

      it('normalises usernames with NFKC and refuses a name that differs only in case or width', () => withDatabase(async ({ store }) => {
        // Full-width letters are compatibility forms of ASCII ones: NFKC folds them.
        const user = await store.users.create({ username: 'ｃａｒｏｌ', password: 'pw' });
        assert.equal(user.username, 'carol');
        await rejectsWith(store.users.create({ username: 'Carol', password: 'pw' }), 'CONFLICT', 'Carol');
        await rejectsWith(store.users.create({ username: 'ＣＡＲＯＬ', password: 'pw' }), 'CONFLICT');
        const unicode = await store.users.create({ username: 'José.Ωmega_1@corp-x', password: 'pw' });
        assert.equal((await store.users.getByUsername('josé.ωmega_1@CORP-X'))?.id, unicode.id);
        assert.equal((await store.users.list()).length, 2);
      }));

      it('validates usernames, naming the field', () => withDatabase(async ({ store }) => {
        const bad = ['', 'a b', 'a/b', 'tab\tname', 'semi;colon', 'x'.repeat(65), 'new\nline', 'quote"'];
        for (const username of bad) {
          await rejectsWith(store.users.create({ username, password: 'pw' }), 'INVALID', 'username');
        }
        assert.equal((await store.users.create({ username: 'x'.repeat(64), password: 'pw' })).username.length, 64);
        assert.equal((await store.users.list()).length, 1);
      }));

      it('validates the other fields, naming each', () => withDatabase(async ({ store }) => {
        await rejectsWith(store.users.create({ username: 'u', password: 'pw', email: 'not-an-address' }), 'INVALID', 'email');
        await rejectsWith(store.users.create({ username: 'u', password: 'pw', displayName: 'a\u0007b' }), 'INVALID', 'displayName');
        await rejectsWith(store.users.create({ username: 'u', password: 'pw', groups: ['a,b'] }), 'INVALID', 'groups');
        await rejectsWith(store.users.create({ username: 'u', password: 'pw', roles: [''] }), 'INVALID', 'roles');
        await rejectsWith(store.users.create({ username: 'u', password: '' }), 'INVALID', 'password');
        await rejectsWith(store.users.create({ username: 'u', password: 'p'.repeat(1025) }), 'INVALID', 'password');
        // The bound is in bytes: 342 three-byte characters are 1,026 bytes.
        await rejectsWith(store.users.create({ username: 'u', password: '€'.repeat(342) }), 'INVALID', '1024');
        assert.deepEqual(await store.users.list(), []);
        await store.users.create({ username: 'u', password: 'p'.repeat(1024) });
      }));

      it('verifies passwords: right password only, enabled users only, any case of the name', () => withDatabase(async ({ store }) => {
        const user = await store.users.create({ username: 'dave', password: 'Tr0ub4dor&3' });
        assert.equal((await store.users.verifyPassword('dave', 'Tr0ub4dor&3'))?.id, user.id);
        assert.equal((await store.users.verifyPassword('DAVE', 'Tr0ub4dor&3'))?.id, user.id);
        assert.equal(await store.users.verifyPassword('dave', 'tr0ub4dor&3'), undefined);
        assert.equal(await store.users.verifyPassword('dave', 'Tr0ub4dor&3 '), undefined);
        assert.equal(await store.users.verifyPassword('nobody', 'Tr0ub4dor&3'), undefined);
        assert.equal(await store.users.verifyPassword('not a name', 'Tr0ub4dor&3'), undefined);
        await store.users.setDisabled('dave', true);
        assert.equal(await store.users.verifyPassword('dave', 'Tr0ub4dor&3'), undefined);
        await store.users.setDisabled('dave', false);
        assert.equal((await store.users.verifyPassword('dave', 'Tr0ub4dor&3'))?.id, user.id);
        await rejectsWith(store.users.verifyPassword('dave', 'p'.repeat(1025)), 'INVALID', 'password');
      }));

      it('matches a password typed in another Unicode normalisation form', () => withDatabase(async ({ store }) => {
        await store.users.create({ username: 'erin', password: 'caf\u00e9' });
        assert.ok(await store.users.verifyPassword('erin', 'cafe\u0301'));
      }));

      it('spends a full hash on unknown and disabled users, like on a wrong password', () => withDatabase(async ({ open }) => {
        // Heavier parameters than the rest of the suite, so a skipped hash (well under 1 ms) stands out clearly.
        const store = await open({ scrypt: { ...TEST_SCRYPT, cost: 8192 } });
        await store.users.create({ username: 'frank', password: 'right' });
        await store.users.create({ username: 'grace', password: 'right' });
        await store.users.setDisabled('grace', true);
        await store.users.verifyPassword('nobody', 'warm-up'); // computes the dummy hash
        const time = async (username: string, password: string) => {
          const runs: number[] = [];
          for (let i = 0; i < 5; i++) {
            const start = process.hrtime.bigint();
            await store.users.verifyPassword(username, password);
            runs.push(Number(process.hrtime.bigint() - start) / 1e6);
          }
          return median(runs);
        };
        const wrong = await time('frank', 'wrong');
        const unknown = await time('nobody', 'wrong');
        const disabled = await time('grace', 'right');
        assert.ok(unknown > wrong / 3, `unknown user ${unknown} ms vs wrong password ${wrong} ms`);
        assert.ok(disabled > wrong / 3, `disabled user ${disabled} ms vs wrong password ${wrong} ms`);
      }));

      it('changes passwords and the must-change flag', () => withDatabase(async ({ store, clock }) => {
        const created = await store.users.create({ username: 'heidi', password: 'first', mustChangePassword: true });
        clock.advance(1000);
        await store.users.setPassword('HEIDI', 'second');
        assert.equal(await store.users.verifyPassword('heidi', 'first'), undefined);
        const after = await store.users.verifyPassword('heidi', 'second');
        assert.equal(after?.mustChangePassword, false);
        assert.equal(after?.updatedAt, created.createdAt + 1000);
        assert.equal(after?.createdAt, created.createdAt);
        await store.users.setPassword('heidi', 'third', { mustChange: true });
        assert.equal((await store.users.getByUsername('heidi'))?.mustChangePassword, true);
        await rejectsWith(store.users.setPassword('heidi', ''), 'INVALID', 'password');
        await rejectsWith(store.users.setPassword('nobody', 'x'), 'NOT_FOUND', 'nobody');
        assert.ok(await store.users.verifyPassword('heidi', 'third'));
      }));

      it('disables, enables and removes users; unknown names are NOT_FOUND', () => withDatabase(async ({ store, clock }) => {
        await store.users.create({ username: 'ivan', password: 'pw' });
        clock.advance(5);
        await store.users.setDisabled('Ivan', true);
        const disabled = await store.users.getByUsername('ivan');
        assert.equal(disabled?.disabled, true);
        assert.equal(disabled?.updatedAt, clock.now());
        await store.users.setDisabled('ivan', false);
        assert.equal((await store.users.getByUsername('ivan'))?.disabled, false);
        await rejectsWith(store.users.setDisabled('nobody', true), 'NOT_FOUND', 'nobody');
        await store.users.remove('IVAN');
        assert.equal(await store.users.getByUsername('ivan'), undefined);
        await rejectsWith(store.users.remove('ivan'), 'NOT_FOUND', 'ivan');
        await rejectsWith(store.users.remove('bad name'), 'NOT_FOUND');
        // The name is free again.
        await store.users.create({ username: 'ivan', password: 'pw2' });
      }));

      it('lists users ordered by name, without password hashes', () => withDatabase(async ({ store }) => {
        for (const username of ['zoe', 'Mallory', 'adam']) await store.users.create({ username, password: `${username}-secret` });
        const users = await store.users.list();
        assert.deepEqual(users.map((u) => u.username), ['adam', 'Mallory', 'zoe']);
        const text = JSON.stringify(users);
        assert.ok(!/scrypt|secret/i.test(text), text);
      }));

      it('keeps verifying old hashes after the scrypt parameters change', () => withDatabase(async ({ store, open }) => {
        await store.users.create({ username: 'judy', password: 'old-params' });
        const upgraded = await open({ scrypt: { ...TEST_SCRYPT, cost: 2048, keyLength: 48 } });
        assert.ok(await upgraded.users.verifyPassword('judy', 'old-params'));
        assert.equal(await upgraded.users.verifyPassword('judy', 'wrong'), undefined);
        // After the upgrade on sign-in, the first connection (old parameters) still verifies the new hash.
        assert.ok(await store.users.verifyPassword('judy', 'old-params'));
      }));
    });

    describe('clients', () => {
      it('creates a confidential client with a random id, a secret shown once and its SHA-256 stored', () => withDatabase(async ({ store, clock }) => {
        const { client, secret } = await store.clients.create({ redirectUris: ['https://app.example.com/cb'] });
        assert.match(client.clientId, /^[A-Za-z0-9_-]{22,}$/);
        assert.match(secret ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.equal(client.secretHash, createHash('sha256').update(secret!).digest('base64url'));
        assert.deepEqual(client, {
          clientId: client.clientId, public: false, redirectUris: ['https://app.example.com/cb'],
          postLogoutRedirectUris: [], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
          secretHash: client.secretHash, createdAt: clock.now(),
        });
        assert.deepEqual(await store.clients.get(client.clientId), client);
        assert.ok(!JSON.stringify(await store.clients.list()).includes(secret!));
        const other = await store.clients.create({ redirectUris: ['https://app.example.com/cb'] });
        assert.notEqual(other.client.clientId, client.clientId);
        assert.notEqual(other.secret, secret);
      }));

      it('creates a public client without a secret or client_credentials', () => withDatabase(async ({ store }) => {
        const created = await store.clients.create({
          clientId: 'spa.example', name: 'Single page app', public: true,
          redirectUris: ['http://localhost:5173/callback', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb'],
          postLogoutRedirectUris: ['https://spa.example.com/bye'],
          backchannelLogoutUri: 'https://spa.example.com/backchannel',
        });
        assert.equal(created.secret, undefined);
        assert.equal('secret' in created, false);
        assert.deepEqual(created.client, {
          clientId: 'spa.example', name: 'Single page app', public: true,
          redirectUris: ['http://localhost:5173/callback', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb'],
          postLogoutRedirectUris: ['https://spa.example.com/bye'],
          backchannelLogoutUri: 'https://spa.example.com/backchannel',
          grantTypes: ['authorization_code', 'refresh_token'], createdAt: created.client.createdAt,
        });
        await rejectsWith(store.clients.create({ public: true, redirectUris: ['https://a.example/cb'],
          grantTypes: ['client_credentials'] }), 'INVALID', 'grantTypes');
      }));

      it('refuses a duplicate client_id and validates client_id and grant types', () => withDatabase(async ({ store }) => {
        await store.clients.create({ clientId: 'app', redirectUris: ['https://a.example/cb'] });
        await rejectsWith(store.clients.create({ clientId: 'app', redirectUris: ['https://b.example/cb'] }), 'CONFLICT', 'app');
        for (const clientId of ['', 'has space', 'colon:id', 'slash/id', 'x'.repeat(129)]) {
          await rejectsWith(store.clients.create({ clientId, redirectUris: ['https://a.example/cb'] }), 'INVALID', 'clientId');
        }
        await rejectsWith(store.clients.create({ redirectUris: ['https://a.example/cb'], grantTypes: ['password'] }),
          'INVALID', 'grantTypes');
        await rejectsWith(store.clients.create({ redirectUris: [] }), 'INVALID', 'redirectUris');
        const m2m = await store.clients.create({ redirectUris: [], grantTypes: ['client_credentials'] });
        assert.deepEqual(m2m.client.grantTypes, ['client_credentials']);
      }));

      it('accepts only absolute https URIs without fragments, or http on loopback', () => withDatabase(async ({ store }) => {
        const bad = [
          'http://app.example.com/cb', 'https://app.example.com/cb#frag', 'https://app.example.com/cb#', '/relative/cb',
          'app.example.com/cb', 'javascript:alert(1)', 'ftp://app.example.com/cb', 'https://user:pw@app.example.com/cb',
          'http://localhost.evil.example/cb', 'http://10.0.0.1/cb', 'https://app.example.com/c b', 'com.example.app:/cb',
        ];
        for (const uri of bad) {
          await rejectsWith(store.clients.create({ redirectUris: [uri] }), 'INVALID', 'redirectUris');
          await rejectsWith(store.clients.create({ redirectUris: ['https://ok.example/cb'], postLogoutRedirectUris: [uri] }),
            'INVALID', 'postLogoutRedirectUris');
          await rejectsWith(store.clients.create({ redirectUris: ['https://ok.example/cb'], backchannelLogoutUri: uri }),
            'INVALID', 'backchannelLogoutUri');
        }
        assert.deepEqual(await store.clients.list(), []);
        // Stored exactly as given: redirect URIs are matched as strings.
        const { client } = await store.clients.create({ redirectUris: ['https://App.Example.com:443/cb?x=1'] });
        assert.deepEqual(client.redirectUris, ['https://App.Example.com:443/cb?x=1']);
      }));

      it('lists in creation order and removes; unknown ids are NOT_FOUND', () => withDatabase(async ({ store, clock }) => {
        await store.clients.create({ clientId: 'second', redirectUris: ['https://a.example/cb'] });
        clock.advance(10);
        await store.clients.create({ clientId: 'first', redirectUris: ['https://a.example/cb'] });
        assert.deepEqual((await store.clients.list()).map((c) => c.clientId), ['second', 'first']);
        await store.clients.remove('second');
        assert.equal(await store.clients.get('second'), undefined);
        assert.deepEqual((await store.clients.list()).map((c) => c.clientId), ['first']);
        await rejectsWith(store.clients.remove('second'), 'NOT_FOUND', 'second');
      }));
    });

    describe('keys', () => {
      const key = (kid: string, use: KeyRecord['use'], createdAt: number): KeyRecord =>
        ({ kid, use, alg: use === 'sig' ? 'RS256' : 'HS256', material: `material-${kid}`, createdAt, retired: false });

      it('adds, lists by use (oldest first) and retires keys', () => withDatabase(async ({ store }) => {
        await store.keys.add(key('sig-2', 'sig', 2000));
        await store.keys.add(key('sig-1', 'sig', 1000));
        await store.keys.add(key('cookie-1', 'cookie', 1500));
        assert.deepEqual(await store.keys.list('sig'), [key('sig-1', 'sig', 1000), key('sig-2', 'sig', 2000)]);
        assert.deepEqual(await store.keys.list('cookie'), [key('cookie-1', 'cookie', 1500)]);
        await store.keys.retire('sig-1');
        assert.deepEqual((await store.keys.list('sig')).map((k) => [k.kid, k.retired]), [['sig-1', true], ['sig-2', false]]);
        await rejectsWith(store.keys.retire('nope'), 'NOT_FOUND', 'nope');
      }));

      it('refuses a duplicate kid and invalid records', () => withDatabase(async ({ store }) => {
        await store.keys.add(key('k', 'sig', 1));
        await rejectsWith(store.keys.add(key('k', 'cookie', 2)), 'CONFLICT', 'k');
        await rejectsWith(store.keys.add({ ...key('x', 'sig', 1), use: 'enc' as KeyRecord['use'] }), 'INVALID', 'use');
        await rejectsWith(store.keys.add({ ...key('', 'sig', 1) }), 'INVALID', 'kid');
        await rejectsWith(store.keys.add({ ...key('y', 'sig', 1), material: '' }), 'INVALID', 'material');
        await rejectsWith(store.keys.add({ ...key('z', 'sig', 1), material: 'a\u0000b' }), 'INVALID', 'material');
        assert.equal((await store.keys.list('sig')).length, 1);
      }));
    });

    auditLogCases(name, withDatabase);
    serviceProviderCases(withDatabase);
    configCases(withDatabase);
    portabilityCases(withDatabase);

    describe('connections', () => {
      it('shares data between connections to the same database', () => withDatabase(async ({ store, open }) => {
        const other = await open({ scrypt: TEST_SCRYPT });
        await store.users.create({ username: 'kim', password: 'pw' });
        await other.clients.create({ clientId: 'shared', redirectUris: ['https://a.example/cb'] });
        assert.ok(await other.users.verifyPassword('kim', 'pw'));
        assert.ok(await store.clients.get('shared'));
        await other.users.setDisabled('kim', true);
        assert.equal((await store.users.getByUsername('kim'))?.disabled, true);
      }));

      it('answers ping while open and fails with UNAVAILABLE once closed', () => withDatabase(async ({ open }) => {
        const store = await open({ scrypt: TEST_SCRYPT });
        await store.ping();
        await store.close();
        await store.close();
        await rejectsWith(store.ping(), 'UNAVAILABLE');
        await rejectsWith(store.users.list(), 'UNAVAILABLE');
        await rejectsWith(store.clients.get('any'), 'UNAVAILABLE');
        await rejectsWith(store.keys.list('sig'), 'UNAVAILABLE');
        if (store.audit) await rejectsWith(store.audit.list(), 'UNAVAILABLE');
      }));
    });
  });
}
