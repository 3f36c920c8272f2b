// Behaviour every ArtifactStore backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { ArtifactStore } from './types.js';

const MESSAGE = '<samlp:Response ID="_r1">…</samlp:Response>';

export function artifactStoreCases(backendName: string, harness: HarnessFactory<ArtifactStore>): void {
  describe(`ArtifactStore cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('resolves an artifact exactly once', async (h) => {
      await h.service.put('h1', MESSAGE, h.now() + TTL_MS);
      assert.equal(await h.service.take('h1'), MESSAGE);
      assert.equal(await h.service.take('h1'), undefined);
    });

    test('returns undefined for an unknown handle and keeps handles apart', async (h) => {
      await h.service.put('h1', 'one', h.now() + TTL_MS);
      await h.service.put('h2', 'two', h.now() + TTL_MS);
      assert.equal(await h.service.take('nope'), undefined);
      assert.equal(await h.service.take('h2'), 'two');
      assert.equal(await h.service.take('h1'), 'one');
    });

    test('keeps a message until it expires', async (h) => {
      await h.service.put('h1', 'one', h.now() + TTL_MS);
      await h.service.put('h2', 'two', h.now() + TTL_MS);
      await h.advance(TTL_MS / 3);
      assert.equal(await h.service.take('h1'), 'one');
      await h.advance(TTL_MS);
      assert.equal(await h.service.take('h2'), undefined);
    });

    test('gives the message to exactly one of 20 concurrent resolvers', async (h) => {
      await h.service.put('h1', MESSAGE, h.now() + TTL_MS);
      const results = await Promise.all(Array.from({ length: 20 }, () => h.service.take('h1')));
      assert.deepEqual(results.filter((r) => r !== undefined), [MESSAGE]);
    });
  });
}
