// Client secrets: generated here, shown to the administrator once, stored only as a SHA-256 hash.
//
// A fast hash is the right tool for these, unlike passwords: a secret is 32 random bytes (256 bits of entropy), so
// no amount of hashing speed makes guessing it from a leaked hash feasible, and a slow hash would only put a
// scrypt-sized cost on every token request a client makes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: 43 characters. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of the secret's UTF-8 bytes, base64url: the value stored in ClientRecord.secretHash. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/**
 * True when `secret` is the client's secret. Compares digests in constant time; hashing first also makes both
 * inputs the same length, so the comparison reveals neither the secret's length nor its prefix.
 */
export function clientSecretMatches(secretHash: string | undefined, secret: string): boolean {
  if (!secretHash || typeof secret !== 'string' || secret.length === 0 || secret.length > 1024) return false;
  const expected = Buffer.from(secretHash, 'base64url');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
