// Behaviour every LoginFailureCounter backend must show. Key limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { LoginFailureCounter } from './types.js';

const WINDOW = TTL_MS;

export function loginFailureCounterCases(backendName: string, harness: HarnessFactory<LoginFailureCounter>): void {
  describe(`LoginFailureCounter cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('counts failures per key, returning the new count', async (h) => {
      assert.equal(await h.service.record('user:alice', WINDOW), 1);
      assert.equal(await h.service.record('user:alice', WINDOW), 2);
      assert.equal(await h.service.record('ip:10.0.0.1', WINDOW), 1);
      assert.equal(await h.service.record('user:alice', WINDOW), 3);
      assert.equal(await h.service.count('user:alice', WINDOW), 3);
      assert.equal(await h.service.count('ip:10.0.0.1', WINDOW), 1);
      assert.equal(await h.service.count('user:bob', WINDOW), 0);
    });

    test('slides the window: old failures stop counting', async (h) => {
      await h.service.record('k', WINDOW);
      await h.advance(WINDOW * 2 / 3);
      assert.equal(await h.service.record('k', WINDOW), 2);
      await h.advance(WINDOW / 2);
      assert.equal(await h.service.count('k', WINDOW), 1);
      assert.equal(await h.service.record('k', WINDOW), 2);
      await h.advance(WINDOW + 50);
      assert.equal(await h.service.count('k', WINDOW), 0);
      assert.equal(await h.service.record('k', WINDOW), 1);
    });

    test('counts within the window the caller asks about', async (h) => {
      await h.service.record('k', WINDOW);
      await h.advance(WINDOW / 2);
      await h.service.record('k', WINDOW);
      assert.equal(await h.service.count('k', WINDOW), 2);
      assert.equal(await h.service.count('k', WINDOW / 4), 1);
    });

    test('reset clears a key and only that key', async (h) => {
      await h.service.record('a', WINDOW);
      await h.service.record('a', WINDOW);
      await h.service.record('b', WINDOW);
      await h.service.reset('a');
      await h.service.reset('never-recorded');
      assert.equal(await h.service.count('a', WINDOW), 0);
      assert.equal(await h.service.count('b', WINDOW), 1);
      assert.equal(await h.service.record('a', WINDOW), 1);
    });

    test('loses no failure among 20 concurrent records', async (h) => {
      const counts = await Promise.all(Array.from({ length: 20 }, () => h.service.record('k', WINDOW)));
      assert.deepEqual([...counts].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(await h.service.count('k', WINDOW), 20);
    });
  });
}
