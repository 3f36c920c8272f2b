// Behaviour every ReplayCache backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { ReplayCache } from './types.js';

export function replayCacheCases(backendName: string, harness: HarnessFactory<ReplayCache>): void {
  describe(`ReplayCache cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('accepts an id the first time and refuses every replay', async (h) => {
      assert.equal(await h.service.checkAndSet('saml', 'id-1', h.now() + TTL_MS), true);
      assert.equal(await h.service.checkAndSet('saml', 'id-1', h.now() + TTL_MS), false);
      assert.equal(await h.service.checkAndSet('saml', 'id-1', h.now() + TTL_MS), false);
      assert.equal(await h.service.checkAndSet('saml', 'id-2', h.now() + TTL_MS), true);
    });

    test('keeps namespaces apart, even when the joined strings would collide', async (h) => {
      assert.equal(await h.service.checkAndSet('saml', 'x', h.now() + TTL_MS), true);
      assert.equal(await h.service.checkAndSet('dpop', 'x', h.now() + TTL_MS), true);
      assert.equal(await h.service.checkAndSet('a:b', 'c', h.now() + TTL_MS), true);
      assert.equal(await h.service.checkAndSet('a', 'b:c', h.now() + TTL_MS), true);
    });

    test('refuses until expiry and accepts the id again after it', async (h) => {
      assert.equal(await h.service.checkAndSet('jti', 'j1', h.now() + TTL_MS), true);
      await h.advance(TTL_MS / 3);
      assert.equal(await h.service.checkAndSet('jti', 'j1', h.now() + TTL_MS), false);
      await h.advance(TTL_MS);
      assert.equal(await h.service.checkAndSet('jti', 'j1', h.now() + TTL_MS), true);
    });

    test('lets exactly one of 20 concurrent callers see an id first', async (h) => {
      const expiresAt = h.now() + TTL_MS;
      const callers = Array.from({ length: 20 }, () => h.service.checkAndSet('saml', 'id-1', expiresAt));
      const results = await Promise.all(callers);
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}
