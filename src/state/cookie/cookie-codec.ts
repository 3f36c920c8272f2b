// The sealed form of one login-transaction record in a browser cookie: `<kid>.<base64url(iv | ciphertext | tag)>`,
// the ciphertext being AES-256-GCM over deflateRaw(JSON {id, payload, expiresAt}). The record id and the kid are the
// additional authenticated data, so a cookie copied under another record's name, or relabelled with another kid,
// fails authentication instead of being read as that record. Pure functions: no request, no key management.
import { createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { JsonObject } from '../types.js';

export const COOKIE_PREFIX = 'cohort_tx_';
/**
 * Largest `name=value` we set. Browsers guarantee 4,096 bytes per cookie including its attributes; 3,800 leaves
 * room for Max-Age, Path, SameSite, HttpOnly and Secure.
 */
export const MAX_COOKIE_BYTES = 3_800;
/** kids are short random or derived labels; anything else in a cookie is garbage and never looked up. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Inflate bound. Only our own (authenticated) ciphertexts are ever inflated, so this is defence in depth against a
 * compression bomb sealed by a buggy caller, far above any real Interaction (1-2 KB of JSON).
 */
const MAX_PLAINTEXT_BYTES = 256 * 1024;
const VALUE_PATTERN = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;
const AAD_LABEL = 'cohort-tx/1';

export interface SealingKey {
  readonly kid: string;
  readonly key: KeyObject;
}

export class CookieTooLargeError extends Error {
  readonly code = 'COOKIE_TOO_LARGE';
  constructor(bytes: number) {
    super(`login-transaction state is ${bytes} bytes as a cookie, above the ${MAX_COOKIE_BYTES}-byte limit of `
      + 'state.backend.interRequest = cookie; use the peer backend for transactions this large');
    this.name = 'CookieTooLargeError';
  }
}

/** Cookie name of a record: a hash, so ids (which may embed one-time tokens) never appear in the browser. */
export function cookieName(id: string): string {
  return COOKIE_PREFIX + createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
}

function aad(kid: string, id: string): Buffer {
  // NUL separators: neither a kid (KID_PATTERN) nor the label contains one, so the encoding is unambiguous.
  return Buffer.from(`${AAD_LABEL}\0${kid}\0${id}`, 'utf8');
}

/** Seals one record under `key`; returns the cookie value. */
export function sealRecord(key: SealingKey, id: string, payload: JsonObject, expiresAt: number): string {
  const plain = deflateRawSync(Buffer.from(JSON.stringify({ id, payload, expiresAt }), 'utf8'));
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(key.kid, id));
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${key.kid}.${sealed.toString('base64url')}`;
}

/** The kid a cookie value names, or undefined when the value is not in our format. */
export function kidOf(value: string): string | undefined {
  return VALUE_PATTERN.exec(value)?.[1];
}

/**
 * Opens a cookie value for record `id`. Every failure (not our format, unknown kid, wrong key, altered byte, sealed
 * for another id, expired, not a record) is undefined: cookies are attacker-controlled input, never a reason to throw.
 */
export function openRecord(
  value: string, id: string, keyFor: (kid: string) => KeyObject | undefined, now: number,
): JsonObject | undefined {
  if (value.length > MAX_COOKIE_BYTES) return undefined;
  const match = VALUE_PATTERN.exec(value);
  if (!match) return undefined;
  const kid = match[1]!;
  const key = keyFor(kid);
  if (!key) return undefined;
  const sealed = Buffer.from(match[2]!, 'base64url');
  if (sealed.length < IV_BYTES + TAG_BYTES + 1) return undefined;
  let record: unknown;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(kid, id));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    record = JSON.parse(inflateRawSync(plain, { maxOutputLength: MAX_PLAINTEXT_BYTES }).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(record) || record.id !== id || !isObject(record.payload)) return undefined;
  if (typeof record.expiresAt !== 'number' || !(record.expiresAt > now)) return undefined;
  return record.payload as JsonObject;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
