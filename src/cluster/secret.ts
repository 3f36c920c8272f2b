// The cluster secret and what is derived from it. The raw secret never reaches the wire or OpenSSL: TLS gets an
// HKDF-derived pre-shared key bound to the cluster name and to its purpose, so the same secret can later key other
// things (cookie encryption, say) without one use weakening another.
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeSecret, MIN_SECRET_BYTES } from './config.js';

/** Bytes of PSK handed to TLS: 256 bits, the HKDF-SHA256 output size. */
export const PSK_BYTES = 32;
/** Fixed salt: domain separation from any other HKDF use of the same secret (RFC 5869 §3.1 allows a constant). */
const HKDF_SALT = Buffer.from('cohort-cluster-secret', 'utf8');
const PSK_INFO_PREFIX = 'Cohort back-channel PSK v1';
const PSK_IDENTITY_PREFIX = 'cohort-back-channel-v1';

/** A fresh cluster secret: 32 random bytes, base64url (43 characters). */
export function generateClusterSecret(random: (size: number) => Buffer = randomBytes): string {
  return random(MIN_SECRET_BYTES).toString('base64url');
}

/** The TLS pre-shared key for the back channel of `clusterName`. Throws CLUSTER_CONFIG if the secret is unusable. */
export function deriveBackChannelPsk(secret: string, clusterName: string): Buffer {
  const ikm = decodeSecret(secret);
  // NUL separates the fixed label from the name, so no name can be crafted to collide with another label.
  const info = Buffer.from(`${PSK_INFO_PREFIX}\0${clusterName}`, 'utf8');
  return Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, info, PSK_BYTES));
}

/**
 * The PSK identity sent in the clear during the handshake: names the cluster (so a node of another cluster is told
 * apart in logs), never anything secret.
 */
export function pskIdentity(clusterName: string): string {
  return `${PSK_IDENTITY_PREFIX}:${clusterName}`;
}

/**
 * Constant-time equality of two strings or buffers, whatever their lengths: both sides are hashed first so neither
 * the content nor the length of the expected value leaks through timing.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  // The hash comparison alone could in theory accept a collision; the length check (after it) rules that out cheaply.
  return timingSafeEqual(ha, hb) && Buffer.byteLength(a) === Buffer.byteLength(b);
}
