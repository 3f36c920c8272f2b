// Cases about what differs between database engines and must not show through DurableStore: collation (order by
// code point, not by the server's locale), characters some engines cannot store (NUL), extreme values, and races
// between connections that only a unique index can settle. Run by durableStoreCases() for every backend.
// (This module and store.case.test.ts import each other; nothing of either is used before both are loaded.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, TEST_SCRYPT, type WithDatabase } from './store.case.test.js';
import type { KeyRecord } from './types.js';

const key = (kid: string, use: KeyRecord['use'], createdAt: number): KeyRecord =>
  ({ kid, use, alg: use === 'sig' ? 'RS256' : 'HS256', material: `material-${kid}`, createdAt, retired: false });

export function portabilityCases(withDatabase: WithDatabase): void {
  describe('portability', () => {
    it('orders users by the code points of their lower-cased names, whatever the database locale', () => withDatabase(async ({ store }) => {
      // A locale-aware collation would put 'émile' before 'fred' and ignore punctuation: the order would then
      // depend on how the database server was set up.
      for (const username of ['zoe', 'émile', 'Fred', 'ab', 'a_b', 'A.c', '1x']) {
        await store.users.create({ username, password: 'pw' });
      }
      assert.deepEqual((await store.users.list()).map((u) => u.username), ['1x', 'A.c', 'a_b', 'ab', 'Fred', 'zoe', 'émile']);
    }));

    it('lets exactly one of two connections racing for a name create it', () => withDatabase(async ({ store, open }) => {
      const other = await open({ scrypt: TEST_SCRYPT });
      // Both pass the existence check before either inserts (hashing takes milliseconds): the unique index decides.
      const results = await Promise.allSettled([
        store.users.create({ username: 'Race', password: 'pw-1' }),
        other.users.create({ username: 'race', password: 'pw-2' }),
      ]);
      const rejected = results.filter((r) => r.status === 'rejected');
      assert.equal(rejected.length, 1, JSON.stringify(results.map((r) => r.status)));
      await rejectsWith(Promise.reject((rejected[0] as PromiseRejectedResult).reason), 'CONFLICT', 'already exists');
      assert.equal((await store.users.list()).length, 1);
    }));

    it('finds nothing for lookups no record can match, such as a NUL character', () => withDatabase(async ({ store }) => {
      await store.users.create({ username: 'nul', password: 'pw' });
      assert.equal(await store.users.getById('a\u0000b'), undefined);
      assert.equal(await store.users.getByUsername('nul\u0000'), undefined);
      assert.equal(await store.users.verifyPassword('nul\u0000', 'pw'), undefined);
      await rejectsWith(store.users.setDisabled('nul\u0000', true), 'NOT_FOUND');
      assert.equal(await store.clients.get('app\u0000'), undefined);
      await rejectsWith(store.clients.remove('app\u0000'), 'NOT_FOUND');
      await rejectsWith(store.keys.retire('kid\u0000'), 'NOT_FOUND');
      assert.deepEqual(await store.keys.list('sig\u0000' as KeyRecord['use']), []);
    }));

    it('breaks creation-time ties by client_id in code point order', () => withDatabase(async ({ store }) => {
      for (const clientId of ['b-app', 'B-app', 'a.app', 'a-app']) {
        await store.clients.create({ clientId, redirectUris: ['https://a.example/cb'] });
      }
      assert.deepEqual((await store.clients.list()).map((c) => c.clientId), ['B-app', 'a-app', 'a.app', 'b-app']);
    }));

    it('breaks creation-time ties by kid in code point order, and keeps extreme timestamps', () => withDatabase(async ({ store }) => {
      for (const kid of ['k.a', 'k-b', 'K-a']) await store.keys.add(key(kid, 'cookie', 7));
      await store.keys.add(key('last', 'cookie', Number.MAX_SAFE_INTEGER));
      await store.keys.add(key('first', 'cookie', 0));
      assert.deepEqual((await store.keys.list('cookie')).map((k) => [k.kid, k.createdAt]),
        [['first', 0], ['K-a', 7], ['k-b', 7], ['k.a', 7], ['last', Number.MAX_SAFE_INTEGER]]);
    }));
  });
}
