// Behaviour every SessionRegistry backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { Participant, SessionRegistry } from './types.js';

const rp: Participant = { protocol: 'oidc', clientId: 'app', details: { sid: 'sid-1' } };
const sp: Participant = {
  protocol: 'saml',
  clientId: 'https://sp.example/metadata',
  details: { nameId: 'alice', sessionIndex: '_i1' },
};

export function sessionRegistryCases(backendName: string, harness: HarnessFactory<SessionRegistry>): void {
  describe(`SessionRegistry cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('lists participants in the order first added; [] for an unknown session', async (h) => {
      await h.service.add('s1', sp, h.now() + TTL_MS);
      await h.service.add('s1', rp, h.now() + TTL_MS);
      assert.deepEqual(await h.service.list('s1'), [sp, rp]);
      assert.deepEqual(await h.service.list('nope'), []);
    });

    test('keeps sessions apart', async (h) => {
      await h.service.add('s1', rp, h.now() + TTL_MS);
      await h.service.add('s2', sp, h.now() + TTL_MS);
      assert.deepEqual(await h.service.list('s1'), [rp]);
      assert.deepEqual(await h.service.list('s2'), [sp]);
    });

    test('dedupes by protocol and client id, keeping the latest details in place', async (h) => {
      const other: Participant = { protocol: 'oidc', clientId: 'other' };
      await h.service.add('s1', rp, h.now() + TTL_MS);
      await h.service.add('s1', other, h.now() + TTL_MS);
      await h.service.add('s1', { ...rp, details: { sid: 'sid-2' } }, h.now() + TTL_MS);
      await h.service.add('s1', { protocol: 'saml', clientId: 'app' }, h.now() + TTL_MS);
      assert.deepEqual(await h.service.list('s1'), [
        { protocol: 'oidc', clientId: 'app', details: { sid: 'sid-2' } },
        other,
        { protocol: 'saml', clientId: 'app' },
      ]);
    });

    test('removes a session entry; removing twice is harmless', async (h) => {
      await h.service.add('s1', rp, h.now() + TTL_MS);
      await h.service.add('s2', rp, h.now() + TTL_MS);
      await h.service.remove('s1');
      await h.service.remove('s1');
      await h.service.remove('never-existed');
      assert.deepEqual(await h.service.list('s1'), []);
      assert.deepEqual(await h.service.list('s2'), [rp]);
    });

    test('forgets a session entry when it expires', async (h) => {
      await h.service.add('s1', rp, h.now() + TTL_MS);
      await h.advance(TTL_MS / 3);
      assert.deepEqual(await h.service.list('s1'), [rp]);
      await h.advance(TTL_MS);
      assert.deepEqual(await h.service.list('s1'), []);
    });

    test('a later add with a later expiry keeps every participant alive', async (h) => {
      await h.service.add('s1', rp, h.now() + TTL_MS);
      await h.advance(TTL_MS * 2 / 3);
      await h.service.add('s1', sp, h.now() + TTL_MS);
      await h.advance(TTL_MS * 2 / 3);
      assert.deepEqual(await h.service.list('s1'), [rp, sp]);
    });

    test('a later add with an earlier expiry does not cut the entry short', async (h) => {
      await h.service.add('s1', rp, h.now() + 3 * TTL_MS);
      await h.service.add('s1', sp, h.now() + TTL_MS);
      await h.advance(TTL_MS + 50);
      assert.deepEqual(await h.service.list('s1'), [rp, sp]);
    });
  });
}
