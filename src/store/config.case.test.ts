// The configuration part of the shared durable-store suite (client updates and imports, published versions,
// settings documents), run by durableStoreCases() (store.case.test.ts) for every backend.
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, type WithDatabase } from './store.case.test.js';
import type { ConfigVersion } from './types.js';

function version(n: number, snapshot = `{"v":${n}}`): ConfigVersion {
  return { version: n, publishedAt: 1_700_000_000_000 + n, publishedBy: 'admin', snapshot,
    digest: createHash('sha256').update(snapshot).digest('hex') };
}

export function configCases(withDatabase: WithDatabase): void {
  describe('client updates and imports', () => {
    it('updates the given fields and keeps the secret hash, id and creation time', () => withDatabase(async ({ store, clock }) => {
      const { client } = await store.clients.create({ clientId: 'app', name: 'App', redirectUris: ['https://app.example.org/cb'] });
      clock.advance(5000);
      const updated = await store.clients.update('app', { redirectUris: ['https://app.example.org/new'] });
      assert.deepEqual(updated, { ...client, redirectUris: ['https://app.example.org/new'] });
      assert.deepEqual(await store.clients.get('app'), updated);
      const renamed = await store.clients.update('app', { name: 'Renamed', backchannelLogoutUri: 'https://app.example.org/bcl' });
      assert.equal(renamed.name, 'Renamed');
      assert.equal(renamed.backchannelLogoutUri, 'https://app.example.org/bcl');
      assert.equal(renamed.secretHash, client.secretHash);
    }));

    it('refuses an unknown client and an update that leaves the client invalid', () => withDatabase(async ({ store }) => {
      await rejectsWith(store.clients.update('nobody', { name: 'x' }), 'NOT_FOUND');
      await store.clients.create({ clientId: 'app', redirectUris: ['https://app.example.org/cb'] });
      await rejectsWith(store.clients.update('app', { redirectUris: [] }), 'INVALID', 'redirectUris');
      await rejectsWith(store.clients.update('app', { redirectUris: ['javascript:alert(1)'] }), 'INVALID', 'redirectUris');
      assert.deepEqual((await store.clients.get('app'))!.redirectUris, ['https://app.example.org/cb']);
    }));

    it('puts whole records, inserting or replacing, secret hash included', () => withDatabase(async ({ store }) => {
      const { client } = await store.clients.create({ clientId: 'app', redirectUris: ['https://app.example.org/cb'] });
      const copy = { ...client, clientId: 'copy', createdAt: 42 };
      assert.deepEqual(await store.clients.put(copy), copy);
      const replaced = await store.clients.put({ ...client, redirectUris: ['https://app.example.org/other'] });
      assert.deepEqual(replaced.redirectUris, ['https://app.example.org/other']);
      assert.equal(replaced.secretHash, client.secretHash);
      await rejectsWith(store.clients.put({ ...client, secretHash: undefined as never }), 'INVALID', 'secretHash');
      assert.deepEqual((await store.clients.list()).map((c) => c.clientId).sort(), ['app', 'copy']);
    }));
  });

  describe('configuration versions', () => {
    it('inserts, reads, lists newest first, and reports the latest', () => withDatabase(async ({ store }) => {
      assert.equal(await store.configVersions.latest(), undefined);
      assert.deepEqual(await store.configVersions.list(), []);
      assert.equal(await store.configVersions.insert(version(1)), 'inserted');
      assert.equal(await store.configVersions.insert(version(2)), 'inserted');
      assert.deepEqual(await store.configVersions.get(1), version(1));
      assert.deepEqual(await store.configVersions.latest(), version(2));
      const { snapshot: _s, ...summary } = version(2);
      assert.deepEqual((await store.configVersions.list())[0], summary);
      assert.deepEqual((await store.configVersions.list(1)).map((v) => v.version), [2]);
      assert.equal(await store.configVersions.get(99), undefined);
    }));

    it('is idempotent for the same digest and refuses another digest for an existing version', () => withDatabase(async ({ store, open }) => {
      await store.configVersions.insert(version(1));
      assert.equal(await store.configVersions.insert(version(1)), 'exists');
      await rejectsWith(store.configVersions.insert(version(1, '{"other":true}')), 'CONFLICT', 'version 1');
      // A second connection to the same database sees the same rows and obeys the same rule.
      const other = await open({ scrypt: { cost: 1024, blockSize: 8, parallelization: 1, keyLength: 32, maxMemoryMb: 16 } });
      assert.equal(await other.configVersions.insert(version(1)), 'exists');
    }));

    it('refuses malformed versions with the field named', () => withDatabase(async ({ store }) => {
      await rejectsWith(store.configVersions.insert({ ...version(1), digest: 'abc' }), 'INVALID', 'digest');
      await rejectsWith(store.configVersions.insert({ ...version(1), version: 0 }), 'INVALID', 'version');
      await rejectsWith(store.configVersions.insert({ ...version(1), snapshot: '' }), 'INVALID', 'snapshot');
    }));
  });

  describe('user replicas', () => {
    it('reads rows with hashes, applies them as they are, keeps newer rows, and removes by id', () => withDatabase(async ({ store, clock }) => {
      const replicas = store.userReplicas!;
      const empty = await replicas.changeMark();
      const alice = await store.users.create({ username: 'Alice', password: 'first passphrase 1', groups: ['staff'] });
      const afterCreate = await replicas.changeMark();
      assert.notEqual(afterCreate, empty);
      const [record] = await replicas.records();
      assert.equal(record!.id, alice.id);
      assert.match(record!.passwordHash, /^\$scrypt\$/);
      clock.advance(1000);
      await store.users.setPassword('alice', 'second passphrase 2');
      assert.notEqual(await replicas.changeMark(), afterCreate);
      // An older copy never overwrites a newer row.
      await replicas.applyReplica({ upsert: [record!], remove: [] });
      assert.ok(await store.users.verifyPassword('alice', 'second passphrase 2'));
      // A newer copy is written as it is: hash, flags and times included.
      const newer = { ...record!, disabled: true, updatedAt: clock.now() + 5000 };
      await replicas.applyReplica({ upsert: [newer], remove: [] });
      assert.deepEqual(await replicas.records(), [newer]);
      assert.equal(await store.users.verifyPassword('alice', 'first passphrase 1'), undefined, 'disabled');
      // The same username under another id (removed and added again on the writer) replaces the old row.
      const again = { ...newer, id: '00000000-0000-4000-8000-000000000001', disabled: false, updatedAt: newer.updatedAt + 1 };
      await replicas.applyReplica({ upsert: [again], remove: [] });
      assert.deepEqual((await replicas.versions()).map((v) => v.id), [again.id]);
      assert.equal((await store.users.verifyPassword('ALICE', 'first passphrase 1'))?.id, again.id);
      // Paging by id, and removal.
      assert.deepEqual(await replicas.records({ after: again.id }), []);
      await replicas.applyReplica({ upsert: [], remove: [again.id] });
      assert.deepEqual(await store.users.list(), []);
      await rejectsWith(replicas.applyReplica({ upsert: [{ ...again, passwordHash: 'plaintext' }], remove: [] }), 'INVALID', 'passwordHash');
      await rejectsWith(replicas.applyReplica({ upsert: [{ ...again, username: 'no spaces allowed' }], remove: [] }), 'INVALID', 'username');
    }));
  });

  describe('settings', () => {
    it('puts, replaces and reads documents with who and when', () => withDatabase(async ({ store, clock }) => {
      assert.equal(await store.settings.get('runtime'), undefined);
      const first = await store.settings.put('runtime', { session: { maxPerUser: 2 } }, 'alice');
      assert.deepEqual(first, { name: 'runtime', value: { session: { maxPerUser: 2 } }, updatedAt: clock.now(), updatedBy: 'alice' });
      clock.advance(1000);
      const second = await store.settings.put('runtime', { branding: { productName: 'Acme' } }, 'bob');
      assert.deepEqual(await store.settings.get('runtime'), second);
      assert.equal(second.updatedBy, 'bob');
      assert.equal(second.updatedAt, clock.now());
    }));

    it('putIfAbsent keeps the first value', () => withDatabase(async ({ store }) => {
      const first = await store.settings.putIfAbsent('store.identity', { id: 'one' }, 'system');
      const second = await store.settings.putIfAbsent('store.identity', { id: 'two' }, 'system');
      assert.deepEqual(second, first);
      assert.deepEqual(second.value, { id: 'one' });
    }));

    it('refuses bad names and values', () => withDatabase(async ({ store }) => {
      await rejectsWith(store.settings.put('', {}, 'a'), 'INVALID', 'name');
      await rejectsWith(store.settings.put('x', [] as never, 'a'), 'INVALID', 'value');
      await rejectsWith(store.settings.put('x', { big: 'x'.repeat(70_000) }, 'a'), 'INVALID', 'value');
    }));
  });
}
