import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generateSigningKey } from '../../store/bootstrap.js';
import { certificateForKey } from './certificate.js';

describe('SAML signing certificate', () => {
  const key = generateSigningKey('RS256', Date.UTC(2026, 10, 24, 9, 30, 15, 123));
  const jwk = JSON.parse(key.material) as Record<string, unknown>;

  it('is a valid self-signed X.509 certificate for the signing key', () => {
    const cert = new X509Certificate(certificateForKey(jwk, key.createdAt));
    assert.ok(cert.verify(cert.publicKey), 'self-signature verifies');
    assert.equal(cert.publicKey.export({ format: 'jwk' }).n, jwk.n);
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-11-24T09:30:15.000Z');
    assert.equal(new Date(cert.validTo).getUTCFullYear(), 2046);
    assert.match(cert.subject, /CN=Cohort SAML signing/);
    assert.equal(cert.ca, false);
  });

  it('is byte-identical every time, so every node serves the same metadata', () => {
    assert.equal(certificateForKey(jwk, key.createdAt), certificateForKey(jwk, key.createdAt));
  });

  it('refuses a key that is not RSA', () => {
    const ec = generateSigningKey('ES256');
    assert.throws(() => certificateForKey(JSON.parse(ec.material), ec.createdAt), /RSA/);
  });
});
