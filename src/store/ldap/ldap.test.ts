// The LDAP user store against a real slapd this test starts (test/support/ldap.ts): bind-as-user authentication,
// filter escaping, attribute and group mapping, the connection bound, timeouts, and an outage with recovery.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'ldapts';
import {
  GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, USERS, ldapSkipReason, startLdap, type LdapServer,
} from '../../../test/support/ldap.js';
import { StoreError } from '../types.js';
import { escapeFilterValue, fillFilter } from './ldap-filter.js';
import { firstRdnValue, LdapUserStore, type LdapUserStoreOptions } from './ldap-user-store.js';

const skip = ldapSkipReason() ?? false;
let server: LdapServer;
const stores: LdapUserStore[] = [];

before(async () => { if (!skip) server = await startLdap(); });
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.destroy();
});

function open(overrides: Partial<LdapUserStoreOptions> = {}): LdapUserStore {
  const store = new LdapUserStore({
    url: server.url, bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, searchBase: SUFFIX,
    userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))', idAttribute: 'entryUUID', usernameAttribute: 'uid',
    emailAttribute: 'mail', displayNameAttribute: 'cn', groupBase: '', groupFilter: '(member={dn})', adminGroup: '',
    maxConnections: 4, timeoutMs: 1_000, ...overrides,
  });
  stores.push(store);
  return store;
}

const isUnavailable = (err: unknown) => err instanceof StoreError && err.code === 'UNAVAILABLE' && /directory/.test(err.message);

describe('LDAP filter escaping (RFC 4515)', () => {
  it('escapes every metacharacter and non-ASCII byte', () => {
    assert.equal(escapeFilterValue('admin)(uid=*'), 'admin\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('a\\b\0'), 'a\\5cb\\00');
    assert.equal(escapeFilterValue('José'), 'Jos\\c3\\a9');
    assert.equal(fillFilter('(&(uid={username})(x={other}))', { username: '*' }), '(&(uid=\\2a)(x={other}))');
  });

  it('reads the value of a DN\'s first RDN, undoing escapes', () => {
    assert.equal(firstRdnValue('cn=staff,ou=groups,dc=example,dc=org'), 'staff');
    assert.equal(firstRdnValue('CN=Smith\\, John,OU=x'), 'Smith, John');
    assert.equal(firstRdnValue('cn=caf\\C3\\A9,dc=x'), 'café');
  });
});

describe('LdapUserStore', { skip }, () => {
  it('authenticates by binding as the user: right password, wrong password, unknown user, empty password', async () => {
    const store = open();
    const alice = await store.verifyPassword('alice', USERS.alice.password);
    assert.ok(alice);
    assert.equal(alice.username, 'alice');
    assert.equal(await store.verifyPassword('alice', 'not-her-password'), undefined);
    assert.equal(await store.verifyPassword('mallory', 'whatever'), undefined);
    // An empty password would be an anonymous bind, which slapd accepts: it must never sign anyone in.
    assert.equal(await store.verifyPassword('alice', ''), undefined);
    // Another user's password does not open alice's account.
    assert.equal(await store.verifyPassword('alice', USERS.bob.password), undefined);
    assert.equal((await store.verifyPassword('bob', USERS.bob.password))?.username, 'bob');
  });

  it('never lets a username with filter metacharacters match anyone else', async () => {
    const store = open();
    for (const name of ['*', 'a*', '*)(uid=*', 'admin)(uid=*', 'alice)(|(uid=*', '\\2a', 'alice\0', 'star*']) {
      for (const password of [USERS.alice.password, USERS.bob.password, USERS['star*name'].password]) {
        assert.equal(await store.verifyPassword(name, password), undefined, `${JSON.stringify(name)} signed in`);
      }
      assert.equal(await store.getByUsername(name), undefined, `${JSON.stringify(name)} found someone`);
    }
    // The escaped value still matches the one user whose uid really holds a '*'.
    assert.equal((await store.verifyPassword('star*name', USERS['star*name'].password))?.username, 'star*name');
  });

  it('maps attributes to the user and groups from memberOf', async () => {
    const store = open();
    const alice = await store.getByUsername('alice');
    assert.ok(alice);
    assert.match(alice.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'entryUUID is the id');
    assert.equal(alice.email, USERS.alice.mail);
    assert.equal(alice.displayName, USERS.alice.cn);
    assert.deepEqual(alice.groups, ['engineering', 'staff']);
    assert.deepEqual(alice.roles, []);
    assert.equal(alice.disabled, false);
    assert.equal(alice.mustChangePassword, false);
    assert.ok(alice.createdAt > Date.UTC(2020, 0, 1) && alice.updatedAt >= alice.createdAt, 'timestamps from the entry');
    assert.deepEqual(await store.getById(alice.id), alice);
    assert.equal(await store.getById('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(await store.getById('*'), undefined);
    // The id of an entry the user filter does not admit (a group has an entryUUID too) is not a user.
    const client = new Client({ url: server.url });
    await client.bind(SERVICE_DN, SERVICE_PASSWORD);
    const { searchEntries } = await client.search(`cn=staff,${GROUPS}`, { scope: 'base', attributes: ['entryUUID'] });
    await client.unbind();
    assert.match(String(searchEntries[0]?.entryUUID), /^[0-9a-f-]{36}$/);
    assert.equal(await store.getById(String(searchEntries[0]?.entryUUID)), undefined);
    assert.deepEqual((await store.getByUsername('bob'))?.groups, []);
    assert.deepEqual((await store.list()).map((u) => u.username), ['alice', 'bob', 'star*name']);
  });

  it('finds groups by searching a group base, and grants admin to the admin group', async () => {
    const store = open({ groupBase: GROUPS, adminGroup: 'Staff', displayNameAttribute: 'sn', idAttribute: 'uid' });
    const alice = await store.verifyPassword('alice', USERS.alice.password);
    assert.deepEqual(alice?.groups, ['engineering', 'staff']);
    assert.deepEqual(alice?.roles, ['admin']);
    assert.equal(alice?.displayName, 'Liddell');
    assert.equal(alice?.id, 'alice');
    assert.deepEqual((await store.getById('bob'))?.roles, []);
  });

  it('refuses writes: users are managed in the directory', async () => {
    const store = open();
    const refused = (err: unknown) => err instanceof StoreError && err.code === 'INVALID' && /managed in the directory/.test(err.message);
    await assert.rejects(store.create({ username: 'carol', password: 'carol-password-long' }), refused);
    await assert.rejects(store.setPassword('alice', 'new-password-long'), refused);
    await assert.rejects(store.setDisabled('alice', true), refused);
    await assert.rejects(store.remove('alice'), refused);
    assert.ok(await store.verifyPassword('alice', USERS.alice.password), 'nothing changed');
  });

  it('never holds more than maxConnections connections, however many sign-ins run at once', async () => {
    const store = open({ maxConnections: 3 });
    server.resetPeak();
    const before = server.connections().open;
    const attempts = Array.from({ length: 24 }, (_, i) => (i % 3 === 0
      ? store.verifyPassword('alice', USERS.alice.password)
      : store.verifyPassword(i % 3 === 1 ? 'bob' : 'nobody', i % 3 === 1 ? USERS.bob.password : 'x')));
    const results = await Promise.all(attempts);
    assert.equal(results.filter((u) => u?.username === 'alice').length, 8);
    assert.equal(results.filter((u) => u?.username === 'bob').length, 8);
    assert.equal(results.filter((u) => u === undefined).length, 8);
    const stats = store.poolStats();
    assert.equal(stats.peakInUse, 3, 'the pool was used to its bound, not beyond');
    assert.ok(stats.opened <= 3, `opened ${stats.opened} connections`);
    // slapd's own count: this store added at most 3 connections.
    assert.ok(server.connections().peak - before <= 3, `slapd saw ${server.connections().peak - before} new connections at once`);
    assert.ok(server.connections().peak - before >= 1);
  });

  it('refuses operations beyond the queue bound at once', async () => {
    const store = open({ maxConnections: 1, maxQueued: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.verifyPassword('alice', USERS.alice.password)));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 3, '1 running + 2 queued, the rest refused');
    assert.ok(refused.every((r) => isUnavailable((r as PromiseRejectedResult).reason) && /busy/.test(String((r as PromiseRejectedResult).reason))));
  });

  it('gives up on a directory that accepts connections but never answers, within timeoutMs', async () => {
    const store = open({ timeoutMs: 300 });
    assert.ok(await store.verifyPassword('alice', USERS.alice.password)); // a pooled, bound connection exists
    await server.pause();
    try {
      const started = Date.now();
      await assert.rejects(store.verifyPassword('alice', USERS.alice.password), isUnavailable);
      const fresh = open({ timeoutMs: 300 });
      await assert.rejects(fresh.ping(), isUnavailable);
      assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    } finally {
      server.resume();
    }
    assert.ok(await store.verifyPassword('alice', USERS.alice.password), 'works again once slapd answers');
  });

  it('reports UNAVAILABLE quickly while slapd is down and recovers by itself when it is back', async () => {
    const store = open();
    const alice = await store.verifyPassword('alice', USERS.alice.password);
    assert.ok(alice);
    await server.stop();
    try {
      const started = Date.now();
      await assert.rejects(store.verifyPassword('alice', USERS.alice.password), isUnavailable);
      await assert.rejects(store.getById(alice.id), isUnavailable);
      await assert.rejects(store.getByUsername('alice'), isUnavailable);
      await assert.rejects(store.ping(), isUnavailable);
      assert.ok(Date.now() - started < 500, `connection refused should fail fast, took ${Date.now() - started} ms`);
    } finally {
      await server.start();
    }
    assert.equal((await store.verifyPassword('alice', USERS.alice.password))?.id, alice.id);
    assert.equal(await store.verifyPassword('alice', 'wrong'), undefined, 'a wrong password is still wrong after reconnect');
    await store.ping();
  });

  it('reports a service account the directory refuses as unavailable, not as a wrong password', async () => {
    const store = open({ bindPassword: 'not-the-service-password' });
    await assert.rejects(store.verifyPassword('alice', USERS.alice.password), (err) => isUnavailable(err) && /service account/.test(String(err)));
    await assert.rejects(store.ping(), isUnavailable);
    const wrongBase = open({ searchBase: `ou=nowhere,${PEOPLE}` });
    await assert.rejects(wrongBase.getByUsername('alice'), isUnavailable);
  });
});
