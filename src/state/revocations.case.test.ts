// Behaviour every RevocationList backend must show. The cap is not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { RevocationList } from './types.js';

export function revocationListCases(backendName: string, harness: HarnessFactory<RevocationList>): void {
  describe(`RevocationList cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('reports revoked ids only', async (h) => {
      await h.service.revoke('s1', h.now() + TTL_MS);
      assert.equal(await h.service.isRevoked('s1'), true);
      assert.equal(await h.service.isRevoked('s2'), false);
    });

    test('lists live revocations oldest first with their expiry', async (h) => {
      const exp = [h.now() + 3 * TTL_MS, h.now() + TTL_MS, h.now() + 2 * TTL_MS];
      await h.service.revoke('s1', exp[0]!);
      await h.service.revoke('s2', exp[1]!);
      await h.service.revoke('s3', exp[2]!);
      assert.deepEqual(await h.service.entries(), [
        { id: 's1', expiresAt: exp[0] },
        { id: 's2', expiresAt: exp[1] },
        { id: 's3', expiresAt: exp[2] },
      ]);
    });

    test('revoking twice keeps one entry', async (h) => {
      await h.service.revoke('s1', h.now() + TTL_MS);
      await h.service.revoke('s2', h.now() + TTL_MS);
      await h.service.revoke('s1', h.now() + TTL_MS);
      const ids = (await h.service.entries()).map((e) => e.id);
      assert.deepEqual([...ids].sort(), ['s1', 's2']);
    });

    test('forgets a revocation once it expires', async (h) => {
      await h.service.revoke('short', h.now() + TTL_MS);
      await h.service.revoke('long', h.now() + 3 * TTL_MS);
      await h.advance(TTL_MS / 3);
      assert.equal(await h.service.isRevoked('short'), true);
      await h.advance(TTL_MS);
      assert.equal(await h.service.isRevoked('short'), false);
      assert.equal(await h.service.isRevoked('long'), true);
      assert.deepEqual((await h.service.entries()).map((e) => e.id), ['long']);
    });

    test('is empty at first', async (h) => {
      assert.deepEqual(await h.service.entries(), []);
    });
  });
}
