// Behaviour every SessionStore backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { SessionRecord, SessionStore } from './types.js';

function session(id: string, expiresAt: number, fields: Partial<SessionRecord> = {}): SessionRecord {
  return { id, uid: `uid-${id}`, payload: { id, loginTs: 1 }, expiresAt, ...fields };
}

const ids = (records: SessionRecord[]): string[] => records.map((r) => r.id);

export function sessionStoreCases(backendName: string, harness: HarnessFactory<SessionStore>): void {
  describe(`SessionStore cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('returns what was put, and undefined for an unknown id', async (h) => {
      const record = session('s1', h.now() + TTL_MS, { userId: 'alice', owner: 3, payload: { a: [1, { b: 'c' }] } });
      await h.service.put(record);
      assert.deepEqual(await h.service.get('s1'), record);
      assert.equal(await h.service.get('nope'), undefined);
    });

    test('finds a session by uid, and not by an unknown uid', async (h) => {
      await h.service.put(session('s1', h.now() + TTL_MS));
      assert.equal((await h.service.findByUid('uid-s1'))?.id, 's1');
      assert.equal(await h.service.findByUid('uid-nope'), undefined);
    });

    test('overwrites payload, uid and user, dropping the old uid', async (h) => {
      await h.service.put(session('s1', h.now() + TTL_MS));
      const updated = session('s1', h.now() + TTL_MS, { uid: 'uid-new', userId: 'alice', payload: { v: 2 } });
      await h.service.put(updated);
      assert.deepEqual(await h.service.get('s1'), updated);
      assert.deepEqual(await h.service.findByUid('uid-new'), updated);
      assert.equal(await h.service.findByUid('uid-s1'), undefined);
      assert.equal(await h.service.count(), 1);
    });

    test('moves a session between users when its userId changes', async (h) => {
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'alice' }));
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'bob' }));
      assert.deepEqual(await h.service.listByUser('alice'), []);
      assert.deepEqual(ids(await h.service.listByUser('bob')), ['s1']);
    });

    test('delete removes the session from every lookup; deleting twice is harmless', async (h) => {
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'alice' }));
      await h.service.put(session('s2', h.now() + TTL_MS, { userId: 'alice' }));
      await h.service.delete('s1');
      await h.service.delete('s1');
      await h.service.delete('never-existed');
      assert.equal(await h.service.get('s1'), undefined);
      assert.equal(await h.service.findByUid('uid-s1'), undefined);
      assert.deepEqual(ids(await h.service.listByUser('alice')), ['s2']);
      assert.deepEqual(ids((await h.service.list()).items), ['s2']);
      assert.equal(await h.service.count(), 1);
    });

    test('keeps a session until it expires, then no lookup returns it', async (h) => {
      await h.service.put(session('short', h.now() + TTL_MS, { userId: 'alice' }));
      await h.service.put(session('long', h.now() + 3 * TTL_MS, { userId: 'alice' }));
      await h.advance(TTL_MS / 3);
      assert.equal((await h.service.get('short'))?.id, 'short');
      await h.advance(TTL_MS);
      assert.equal(await h.service.get('short'), undefined);
      assert.equal(await h.service.findByUid('uid-short'), undefined);
      assert.deepEqual(ids(await h.service.listByUser('alice')), ['long']);
      assert.deepEqual(await h.service.list(), { total: 1, items: [await h.service.get('long')] });
      assert.equal(await h.service.count(), 1);
    });

    test('count and list leave out expired sessions nobody has read since', async (h) => {
      await h.service.put(session('short', h.now() + TTL_MS));
      await h.service.put(session('long', h.now() + 3 * TTL_MS));
      await h.advance(TTL_MS + 50);
      assert.equal(await h.service.count(), 1);
      assert.deepEqual(ids((await h.service.list()).items), ['long']);
    });

    test('does not store a session whose expiry has passed', async (h) => {
      await h.service.put(session('s1', h.now() - 1, { userId: 'alice' }));
      assert.equal(await h.service.get('s1'), undefined);
      assert.equal(await h.service.count(), 0);
      assert.deepEqual(await h.service.listByUser('alice'), []);
    });

    test('reuses an expired id as a new session at the end of the order', async (h) => {
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'alice' }));
      await h.service.put(session('s2', h.now() + 3 * TTL_MS, { userId: 'alice' }));
      await h.advance(TTL_MS + 50);
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'alice' }));
      assert.deepEqual(ids(await h.service.listByUser('alice')), ['s2', 's1']);
    });

    test("lists one user's sessions oldest first, overwrites keeping their place", async (h) => {
      for (const id of ['a1', 'b1', 'a2', 'a3']) {
        await h.service.put(session(id, h.now() + TTL_MS, { userId: id.startsWith('a') ? 'alice' : 'bob' }));
      }
      await h.service.put(session('a1', h.now() + TTL_MS, { userId: 'alice', payload: { touched: true } }));
      await h.service.get('a2');
      assert.deepEqual(ids(await h.service.listByUser('alice')), ['a1', 'a2', 'a3']);
      assert.deepEqual(ids(await h.service.listByUser('bob')), ['b1']);
      assert.deepEqual(await h.service.listByUser('carol'), []);
      assert.deepEqual(ids((await h.service.list()).items), ['a1', 'b1', 'a2', 'a3']);
      assert.deepEqual((await h.service.listByUser('alice'))[0]?.payload, { touched: true });
    });

    test('counts and lists sessions nobody has signed in to yet', async (h) => {
      await h.service.put(session('anon', h.now() + TTL_MS));
      await h.service.put(session('s1', h.now() + TTL_MS, { userId: 'alice' }));
      assert.equal(await h.service.count(), 2);
      assert.deepEqual(ids((await h.service.list()).items), ['anon', 's1']);
      assert.deepEqual(ids(await h.service.listByUser('alice')), ['s1']);
    });

    test('pages the list oldest first with the total of all live sessions', async (h) => {
      const all = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];
      for (const id of all) await h.service.put(session(id, h.now() + TTL_MS));
      await h.service.get('s0'); // reading must not reorder the list
      assert.deepEqual(ids((await h.service.list()).items), all);
      const page = async (offset: number, limit: number) => {
        const { total, items } = await h.service.list({ offset, limit });
        return { total, ids: ids(items) };
      };
      assert.deepEqual(await page(0, 3), { total: 7, ids: ['s0', 's1', 's2'] });
      assert.deepEqual(await page(3, 3), { total: 7, ids: ['s3', 's4', 's5'] });
      assert.deepEqual(await page(6, 3), { total: 7, ids: ['s6'] });
      assert.deepEqual(await page(9, 3), { total: 7, ids: [] });
      assert.deepEqual(await page(2, 0), { total: 7, ids: [] });
    });

    test('filters the list by user, paging within that user', async (h) => {
      for (const [id, userId] of [['a1', 'alice'], ['b1', 'bob'], ['a2', 'alice'], ['a3', 'alice']] as const) {
        await h.service.put(session(id, h.now() + TTL_MS, { userId }));
      }
      const { total, items } = await h.service.list({ userId: 'alice', offset: 1, limit: 1 });
      assert.equal(total, 3);
      assert.deepEqual(ids(items), ['a2']);
      assert.deepEqual(await h.service.list({ userId: 'carol' }), { total: 0, items: [] });
    });

    test('count is zero when empty', async (h) => {
      assert.equal(await h.service.count(), 0);
      assert.deepEqual(await h.service.list(), { total: 0, items: [] });
    });
  });
}
