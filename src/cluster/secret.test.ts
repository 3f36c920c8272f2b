import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { constantTimeEqual, deriveBackChannelPsk, generateClusterSecret, pskIdentity, PSK_BYTES } from './secret.js';

describe('cluster secret', () => {
  it('generates 32 random bytes as base64url', () => {
    const a = generateClusterSecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 32);
    assert.notEqual(a, generateClusterSecret());
    assert.equal(generateClusterSecret((n) => Buffer.alloc(n, 0xff)), Buffer.alloc(32, 0xff).toString('base64url'));
  });

  it('derives a PSK bound to the cluster name, distinct from the raw secret', () => {
    const secret = generateClusterSecret();
    const psk = deriveBackChannelPsk(secret, 'cohort');
    assert.equal(psk.length, PSK_BYTES);
    assert.deepEqual(psk, deriveBackChannelPsk(secret, 'cohort'), 'deterministic: every node derives the same key');
    assert.notDeepEqual(psk, Buffer.from(secret, 'base64url'));
    assert.notDeepEqual(psk, deriveBackChannelPsk(secret, 'cohort2'));
    assert.notDeepEqual(psk, deriveBackChannelPsk(generateClusterSecret(), 'cohort'));
    assert.throws(() => deriveBackChannelPsk('short', 'cohort'), { code: 'CLUSTER_CONFIG' });
  });

  it('is RFC 5869 HKDF-SHA256 with the documented salt and info (a wire contract between versions)', () => {
    const ikm = Buffer.alloc(32, 1);
    const psk = deriveBackChannelPsk(ikm.toString('base64url'), 'cohort');
    // Extract and expand written out with HMAC, independently of node's hkdfSync.
    const prk = createHmac('sha256', 'cohort-cluster-secret').update(ikm).digest();
    const okm = createHmac('sha256', prk).update(Buffer.concat([Buffer.from('Cohort back-channel PSK v1\0cohort'),
      Buffer.from([1])])).digest();
    assert.deepEqual(psk, okm);
    assert.equal(psk.toString('hex'), KNOWN_PSK_HEX, 'pinned: changing it splits mixed-version clusters');
  });

  it('names the cluster in the PSK identity, not the secret', () => {
    assert.equal(pskIdentity('cohort'), 'cohort-back-channel-v1:cohort');
  });

  it('compares in constant time, whatever the lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual(Buffer.from('x'), 'x'), true);
    assert.equal(constantTimeEqual('', ''), true);
  });
});

const KNOWN_PSK_HEX = 'a2543c251f9ba96c011a21030569e0ea8b760feffe6433956f04a3ab43f34997';
