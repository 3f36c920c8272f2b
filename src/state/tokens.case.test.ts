// Behaviour every TokenStore backend must show. Size limits are not here: each backend bounds differently.

import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { caseRunner, TTL_MS, type HarnessFactory } from './case-harness.js';
import type { TokenRecord, TokenStore } from './types.js';

function token(model: string, id: string, expiresAt: number, fields: Partial<TokenRecord> = {}): TokenRecord {
  return { model, id, payload: { jti: id, kind: model }, expiresAt, ...fields };
}

export function tokenStoreCases(backendName: string, harness: HarnessFactory<TokenStore>): void {
  describe(`TokenStore cases (${backendName})`, () => {
    const test = caseRunner(harness);

    test('returns what was put, keyed by model and id', async (h) => {
      const payload = { scope: 'openid', n: [1] };
      const code = token('AuthorizationCode', 'x', h.now() + TTL_MS, { grantId: 'g1', payload });
      const access = token('AccessToken', 'x', h.now() + TTL_MS);
      await h.service.put(code);
      await h.service.put(access);
      assert.deepEqual(await h.service.get('AuthorizationCode', 'x'), code);
      assert.deepEqual(await h.service.get('AccessToken', 'x'), access);
      assert.equal(await h.service.get('RefreshToken', 'x'), undefined);
      assert.equal(await h.service.get('AuthorizationCode', 'y'), undefined);
    });

    test('overwrites a record', async (h) => {
      await h.service.put(token('Grant', 'g', h.now() + TTL_MS, { payload: { v: 1 } }));
      const updated = token('Grant', 'g', h.now() + TTL_MS, { payload: { v: 2 } });
      await h.service.put(updated);
      assert.deepEqual(await h.service.get('Grant', 'g'), updated);
    });

    test('finds by userCode and by uid within the model only', async (h) => {
      await h.service.put(token('DeviceCode', 'd1', h.now() + TTL_MS, { userCode: 'ABCD-EFGH' }));
      await h.service.put(token('Session', 's1', h.now() + TTL_MS, { uid: 'u1' }));
      assert.equal((await h.service.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.id, 'd1');
      assert.equal(await h.service.findByUserCode('Session', 'ABCD-EFGH'), undefined);
      assert.equal(await h.service.findByUserCode('DeviceCode', 'ZZZZ-ZZZZ'), undefined);
      assert.equal((await h.service.findByUid('Session', 'u1'))?.id, 's1');
      assert.equal(await h.service.findByUid('DeviceCode', 'u1'), undefined);
      assert.equal(await h.service.findByUid('Session', 'u2'), undefined);
    });

    test('an overwrite drops the old userCode and uid', async (h) => {
      await h.service.put(token('DeviceCode', 'd1', h.now() + TTL_MS, { userCode: 'OLD', uid: 'old' }));
      await h.service.put(token('DeviceCode', 'd1', h.now() + TTL_MS, { userCode: 'NEW' }));
      assert.equal(await h.service.findByUserCode('DeviceCode', 'OLD'), undefined);
      assert.equal(await h.service.findByUid('DeviceCode', 'old'), undefined);
      assert.equal((await h.service.findByUserCode('DeviceCode', 'NEW'))?.id, 'd1');
    });

    test('delete removes the record and its lookups; deleting twice is harmless', async (h) => {
      await h.service.put(token('DeviceCode', 'd1', h.now() + TTL_MS, { userCode: 'U', uid: 'u', grantId: 'g' }));
      await h.service.delete('DeviceCode', 'd1');
      await h.service.delete('DeviceCode', 'd1');
      await h.service.delete('DeviceCode', 'never-existed');
      assert.equal(await h.service.get('DeviceCode', 'd1'), undefined);
      assert.equal(await h.service.findByUserCode('DeviceCode', 'U'), undefined);
      assert.equal(await h.service.findByUid('DeviceCode', 'u'), undefined);
      assert.equal(await h.service.consume('DeviceCode', 'd1'), 'not_found');
    });

    test('keeps a record until it expires, then nothing finds or consumes it', async (h) => {
      await h.service.put(token('DeviceCode', 'd1', h.now() + TTL_MS, { userCode: 'U', uid: 'u' }));
      await h.advance(TTL_MS / 3);
      assert.equal((await h.service.get('DeviceCode', 'd1'))?.id, 'd1');
      await h.advance(TTL_MS);
      assert.equal(await h.service.get('DeviceCode', 'd1'), undefined);
      assert.equal(await h.service.findByUserCode('DeviceCode', 'U'), undefined);
      assert.equal(await h.service.findByUid('DeviceCode', 'u'), undefined);
      assert.equal(await h.service.consume('DeviceCode', 'd1'), 'not_found');
    });

    test('does not store a record whose expiry has passed', async (h) => {
      await h.service.put(token('AccessToken', 'a1', h.now() - 1));
      assert.equal(await h.service.get('AccessToken', 'a1'), undefined);
    });

    test('consumes once, stamping payload.consumed in epoch seconds', async (h) => {
      await h.service.put(token('AuthorizationCode', 'c1', h.now() + TTL_MS));
      const before = Math.floor(h.now() / 1000);
      assert.equal(await h.service.consume('AuthorizationCode', 'c1'), 'consumed');
      const after = Math.ceil(h.now() / 1000);
      const consumed = (await h.service.get('AuthorizationCode', 'c1'))?.payload.consumed;
      assert.equal(typeof consumed, 'number');
      assert.ok((consumed as number) >= before && (consumed as number) <= after, `consumed=${consumed}`);
      assert.equal(await h.service.consume('AuthorizationCode', 'c1'), 'already_consumed');
      assert.equal((await h.service.get('AuthorizationCode', 'c1'))?.payload.consumed, consumed);
      assert.equal(await h.service.consume('AuthorizationCode', 'unknown'), 'not_found');
      assert.equal(await h.service.consume('AccessToken', 'c1'), 'not_found');
    });

    test('treats a record stored already consumed as consumed', async (h) => {
      await h.service.put(token('AuthorizationCode', 'c1', h.now() + TTL_MS, { payload: { consumed: 1_700_000_000 } }));
      assert.equal(await h.service.consume('AuthorizationCode', 'c1'), 'already_consumed');
    });

    test('lets exactly one of 20 concurrent consumers win', async (h) => {
      await h.service.put(token('AuthorizationCode', 'c1', h.now() + TTL_MS));
      const results = await Promise.all(Array.from({ length: 20 }, () => h.service.consume('AuthorizationCode', 'c1')));
      assert.equal(results.filter((r) => r === 'consumed').length, 1);
      assert.equal(results.filter((r) => r === 'already_consumed').length, 19);
    });

    test('revokeByGrantId removes every model of that grant and nothing else', async (h) => {
      const exp = h.now() + TTL_MS;
      await h.service.put(token('AuthorizationCode', 'c1', exp, { grantId: 'g1' }));
      await h.service.put(token('AccessToken', 'a1', exp, { grantId: 'g1', uid: 'ua1' }));
      await h.service.put(token('RefreshToken', 'r1', exp, { grantId: 'g1' }));
      await h.service.put(token('DeviceCode', 'd1', exp, { grantId: 'g1', userCode: 'U1' }));
      await h.service.put(token('AccessToken', 'a2', exp, { grantId: 'g2' }));
      await h.service.put(token('AccessToken', 'a3', exp));
      await h.service.revokeByGrantId('g1');
      const revoked = [
        ['AuthorizationCode', 'c1'], ['AccessToken', 'a1'], ['RefreshToken', 'r1'], ['DeviceCode', 'd1'],
      ] as const;
      for (const [model, id] of revoked) {
        assert.equal(await h.service.get(model, id), undefined, `${model} ${id}`);
      }
      assert.equal(await h.service.findByUid('AccessToken', 'ua1'), undefined);
      assert.equal(await h.service.findByUserCode('DeviceCode', 'U1'), undefined);
      assert.equal((await h.service.get('AccessToken', 'a2'))?.id, 'a2');
      assert.equal((await h.service.get('AccessToken', 'a3'))?.id, 'a3');
      await h.service.revokeByGrantId('g1');
      await h.service.revokeByGrantId('never-existed');
    });

    test('revokeByGrantId follows a record that moved to another grant', async (h) => {
      await h.service.put(token('AccessToken', 'a1', h.now() + TTL_MS, { grantId: 'old' }));
      await h.service.put(token('AccessToken', 'a1', h.now() + TTL_MS, { grantId: 'new' }));
      await h.service.revokeByGrantId('old');
      assert.equal((await h.service.get('AccessToken', 'a1'))?.id, 'a1');
      await h.service.revokeByGrantId('new');
      assert.equal(await h.service.get('AccessToken', 'a1'), undefined);
    });
  });
}
