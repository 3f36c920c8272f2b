import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError } from './errors.js';
import { admitHello, checkWelcome, helloMessage, welcomeMessage, type HandshakeContext } from './handshake.js';
import type { NodeIdentity } from './protocol.js';

const self: NodeIdentity = {
  cluster: 'c', index: 1, role: 'engine', address: '10.0.0.1:7901', instanceId: 'self', version: '1.0.0',
};
const peer: NodeIdentity = { ...self, index: 2, address: '10.0.0.2:7901', instanceId: 'peer' };

function context(holder?: { address: string }): HandshakeContext {
  return { self, supported: { min: 1, max: 2 }, holderOf: () => holder };
}

describe('handshake decisions', () => {
  it('admits a peer at the highest common version', () => {
    assert.deepEqual(admitHello({ ...helloMessage(peer, { min: 1, max: 5 }) }, context()), { verdict: 'accept', version: 2 });
    assert.deepEqual(admitHello(helloMessage(peer, { min: 1, max: 1 }), context()), { verdict: 'accept', version: 1 });
  });

  it('refuses with a reason the other side can show', () => {
    assert.deepEqual(admitHello(helloMessage({ ...peer, cluster: 'other' }, { min: 1, max: 1 }), context()),
      { verdict: 'refuse', code: 'CLUSTER_REFUSED', reason: "cluster name 'other' does not match this cluster 'c'" });
    assert.deepEqual(admitHello(helloMessage(peer, { min: 3, max: 3 }), context()), { verdict: 'refuse',
      code: 'CLUSTER_PROTOCOL', reason: 'no common protocol version: this node speaks 1..2, the peer requires 3..3' });
    assert.deepEqual(admitHello(helloMessage({ ...peer, index: 1 }, { min: 1, max: 1 }), context()),
      { verdict: 'refuse', code: 'CLUSTER_REFUSED', reason: 'node index 1 is already in use by 10.0.0.1:7901' });
    assert.deepEqual(admitHello(helloMessage(peer, { min: 1, max: 1 }), context({ address: '127.0.0.1:7903' })),
      { verdict: 'refuse', code: 'CLUSTER_REFUSED', reason: 'node index 2 is already in use by 127.0.0.1:7903' });
  });

  it('recognises its own hello', () => {
    assert.deepEqual(admitHello(helloMessage(self, { min: 1, max: 2 }), context()), { verdict: 'self', version: 2 });
    assert.equal(checkWelcome(welcomeMessage(self, { min: 1, max: 2 }, 2, []), context()), 'self');
  });

  it('checks the welcome the same way from the dialling side', () => {
    assert.equal(checkWelcome(welcomeMessage(peer, { min: 1, max: 3 }, 2, []), context()), 2);
    assert.throws(() => checkWelcome(welcomeMessage(peer, { min: 1, max: 3 }, 1, []), context()),
      { code: 'CLUSTER_PROTOCOL', message: /chose protocol version 1, expected 2/ });
    assert.throws(() => checkWelcome(welcomeMessage(peer, { min: 3, max: 3 }, 3, []), context()),
      (e: unknown) => e instanceof ClusterError && e.code === 'CLUSTER_PROTOCOL');
    assert.throws(() => checkWelcome(welcomeMessage({ ...peer, cluster: 'x' }, { min: 1, max: 2 }, 2, []), context()),
      { code: 'CLUSTER_REFUSED' });
    assert.throws(() => checkWelcome(welcomeMessage(peer, { min: 1, max: 2 }, 2, []), context({ address: 'h:1' })),
      { code: 'CLUSTER_REFUSED', message: /node index 2, which is in use by h:1/ });
  });
});
