// Behaviour every InterRequestStore backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { InterRequestStore } from './types.js';

export function interRequestStoreCases(backendName: string, harness: HarnessFactory<InterRequestStore>): void {
  describe(`InterRequestStore cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('returns what was put, and undefined for an unknown id', async (h) => {
      const payload = { returnTo: '/authorize?x=1', params: { prompt: ['login'], max_age: 0 }, done: false };
      await h.service.put('i1', payload, h.now() + TTL_MS);
      assert.deepEqual(await h.service.get('i1'), payload);
      assert.equal(await h.service.get('nope'), undefined);
    });

    test('overwrites', async (h) => {
      await h.service.put('i1', { step: 1 }, h.now() + TTL_MS);
      await h.service.put('i1', { step: 2 }, h.now() + TTL_MS);
      assert.deepEqual(await h.service.get('i1'), { step: 2 });
    });

    test('deletes; deleting twice is harmless', async (h) => {
      await h.service.put('i1', { step: 1 }, h.now() + TTL_MS);
      await h.service.put('i2', { step: 1 }, h.now() + TTL_MS);
      await h.service.delete('i1');
      await h.service.delete('i1');
      await h.service.delete('never-existed');
      assert.equal(await h.service.get('i1'), undefined);
      assert.deepEqual(await h.service.get('i2'), { step: 1 });
    });

    test('keeps an entry until it expires', async (h) => {
      await h.service.put('i1', { step: 1 }, h.now() + TTL_MS);
      await h.advance(TTL_MS / 3);
      assert.deepEqual(await h.service.get('i1'), { step: 1 });
      await h.advance(TTL_MS);
      assert.equal(await h.service.get('i1'), undefined);
    });

    test('an overwrite sets the new expiry', async (h) => {
      await h.service.put('i1', { step: 1 }, h.now() + TTL_MS);
      await h.service.put('i1', { step: 2 }, h.now() + 3 * TTL_MS);
      await h.advance(TTL_MS + 50);
      assert.deepEqual(await h.service.get('i1'), { step: 2 });
    });
  });
}
