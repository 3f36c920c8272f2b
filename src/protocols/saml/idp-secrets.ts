// Secrets the SAML IdP derives instead of storing: every node derives the same values from the durable store's
// first cookie key, so persistent NameIDs and SessionIndex values mean the same thing on every node and after a
// restart, with no extra state to replicate.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface IdpSecrets {
  /** Key of the pairwise persistent NameID (HMAC). */
  nameId: Buffer;
  /** AES-256-GCM key sealing session ids into SessionIndex values. */
  sessionIndex: Buffer;
}

export function deriveIdpSecrets(cookieKey: Buffer): IdpSecrets {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', cookieKey, 'cohort-saml', info, 32));
  return { nameId: derive('persistent-nameid'), sessionIndex: derive('session-index') };
}

const AAD = Buffer.from('cohort-saml-session-index');

/**
 * The SessionIndex handed to an SP: the session's uid (stable while the session lives), encrypted. An SP's back-channel LogoutRequest carries only this
 * (no browser cookie), so any node must get the session back from it, while SPs learn nothing about the session.
 */
export function sealSessionIndex(sessionUid: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const sealed = Buffer.concat([cipher.update(sessionUid, 'utf8'), cipher.final()]);
  return `_${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
}

/** The session uid inside a SessionIndex, or undefined for anything this IdP did not seal. */
export function openSessionIndex(value: string, key: Buffer): string | undefined {
  if (!/^_[A-Za-z0-9_-]{40,400}$/.test(value)) return undefined;
  const raw = Buffer.from(value.slice(1), 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(AAD);
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
