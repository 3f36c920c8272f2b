// The audit-log part of the shared durable-store suite, run by durableStoreCases() (store.case.test.ts) for every
// backend. The audit log is an optional member of DurableStore: a backend without one skips these, saying so.
// (This module and store.case.test.ts import each other; nothing of either is used before both are loaded.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, TEST_SCRYPT, type WithDatabase } from './store.case.test.js';
import type { AuditLog, DurableStore } from './types.js';

export function auditLogCases(name: string, withDatabase: WithDatabase): void {
  describe('audit log', () => {
    /** The audit log, or a skip naming why: it is an optional member of DurableStore. */
    function auditOf(store: DurableStore, t: { skip(reason: string): void }): AuditLog | undefined {
      if (!store.audit) t.skip(`${name} has no audit log`);
      return store.audit;
    }

    it('appends entries with increasing ids and the store clock, listed newest first', (t) => withDatabase(async ({ store, clock }) => {
      const audit = auditOf(store, t);
      if (!audit) return;
      const first = await audit.append({ actor: 'admin', action: 'user.created', target: 'alice' });
      assert.deepEqual(first, { id: first.id, at: clock.now(), actor: 'admin', action: 'user.created', target: 'alice' });
      clock.advance(1000);
      const second = await audit.append({ actor: 'cli', action: 'client.removed' });
      assert.ok(second.id > first.id);
      assert.equal(second.at, clock.now());
      assert.equal('target' in second, false);
      assert.equal('details' in second, false);
      assert.deepEqual(await audit.list(), [second, first]);
    }));

    it('keeps details as the JSON object it was given', (t) => withDatabase(async ({ store }) => {
      const audit = auditOf(store, t);
      if (!audit) return;
      const details = {
        roles: ['admin', 'ops'], nested: { deep: { n: 1.5, big: 2 ** 53 - 1, neg: -3, no: false, nothing: null } },
        text: 'Ωmega "quoted" \\ back\nslash 🎉', empty: {}, list: [],
      };
      const entry = await audit.append({ actor: 'admin', action: 'user.updated', target: 'bob', details: { ...details, gone: undefined } });
      assert.deepEqual(entry.details, details);
      assert.deepEqual((await audit.list())[0], entry);
    }));

    it('filters by actor, action and target, and pages with limit and before', (t) => withDatabase(async ({ store }) => {
      const audit = auditOf(store, t);
      if (!audit) return;
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await audit.append({ actor: i % 2 ? 'alice' : 'bob', action: i < 4 ? 'user.created' : 'user.removed', target: `u${i % 3}` })).id);
      }
      const idsOf = (entries: { id: number }[]) => entries.map((e) => e.id);
      assert.deepEqual(idsOf(await audit.list({ actor: 'alice' })), [ids[5], ids[3], ids[1]]);
      assert.deepEqual(idsOf(await audit.list({ action: 'user.removed', actor: 'bob' })), [ids[6], ids[4]]);
      assert.deepEqual(idsOf(await audit.list({ target: 'u0' })), [ids[6], ids[3], ids[0]]);
      assert.deepEqual(idsOf(await audit.list({ limit: 2 })), [ids[6], ids[5]]);
      assert.deepEqual(idsOf(await audit.list({ limit: 2, before: ids[5] })), [ids[4], ids[3]]);
      assert.deepEqual(await audit.list({ actor: 'nobody' }), []);
    }));

    it('validates entries and queries, naming the field', (t) => withDatabase(async ({ store }) => {
      const audit = auditOf(store, t);
      if (!audit) return;
      const ok = { actor: 'admin', action: 'user.created' };
      for (const action of ['', 'user', 'User.created', 'user.', '.created', 'user created', 'a.' + 'b'.repeat(63)]) {
        await rejectsWith(audit.append({ ...ok, action }), 'INVALID', 'action');
      }
      for (const actor of ['', 'x'.repeat(129), 'a\nb', 'nul\u0000']) await rejectsWith(audit.append({ ...ok, actor }), 'INVALID', 'actor');
      await rejectsWith(audit.append({ ...ok, target: 't'.repeat(257) }), 'INVALID', 'target');
      await rejectsWith(audit.append({ ...ok, target: '' }), 'INVALID', 'target');
      const badDetails: unknown[] = [
        ['array'], 'text', 42, new Date(0), { big: 'x'.repeat(16_384) }, { nul: 'a\u0000b' }, { 'k\u0000': 1 },
        { lone: '\ud800' }, { toJSON: () => 'not an object' },
      ];
      for (const details of badDetails) {
        await rejectsWith(audit.append({ ...ok, details: details as Record<string, unknown> }), 'INVALID', 'details');
      }
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await rejectsWith(audit.append({ ...ok, details: cyclic }), 'INVALID', 'details');
      for (const limit of [0, 1001, 1.5]) await rejectsWith(audit.list({ limit }), 'INVALID', 'limit');
      await rejectsWith(audit.list({ before: 0 }), 'INVALID', 'before');
      await rejectsWith(audit.list({ action: 'Nope' }), 'INVALID', 'action');
      assert.deepEqual(await audit.list(), []);
      // A backslash followed by u0000 as plain text is not a NUL.
      const literal = await audit.append({ ...ok, details: { path: 'C:\\u0000dir' } });
      assert.equal(literal.details?.path, 'C:\\u0000dir');
    }));

    it('is shared between connections, without reusing ids', (t) => withDatabase(async ({ store, open }) => {
      const audit = auditOf(store, t);
      if (!audit) return;
      const other = (await open({ scrypt: TEST_SCRYPT })).audit!;
      const appended = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? audit : other).append({ actor: `a${i}`, action: 'key.rotated' })));
      assert.equal(new Set(appended.map((e) => e.id)).size, 10);
      assert.deepEqual((await other.list()).map((e) => e.id), appended.map((e) => e.id).sort((a, b) => b - a));
    }));
  });
}
