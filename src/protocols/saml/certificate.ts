// The IdP's X.509 signing certificate. Cohort's signing keys are JWKs (shared with OIDC), while SAML metadata and
// signatures carry certificates; service providers only pin the public key inside. So each node derives the same
// self-signed certificate from the RSA key: every field comes from the key and its creation time, and RSA PKCS#1
// v1.5 signatures are deterministic, so all nodes serve byte-identical metadata with no extra state to share.
// This file only lays out DER (the container format); the signature itself is node:crypto's.
import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const COMMON_NAME = '2.5.4.3';
const VALIDITY_YEARS = 20;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const name = (cn: string) => sequence(tlv(0x31, sequence(oid(COMMON_NAME), tlv(0x0c, Buffer.from(cn, 'utf8')))));

/** PEM of the self-signed certificate for an RSA private key (a JWK as stored in the key store). */
export function certificateForKey(privateJwk: Record<string, unknown>, createdAt: number): string {
  const privateKey: KeyObject = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
  if (privateKey.asymmetricKeyType !== 'rsa') throw new TypeError('SAML signing needs an RSA key');
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const serial = createHash('sha256').update(spki).digest().subarray(0, 16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and minimally encoded
  const algorithm = sequence(oid(SHA256_WITH_RSA), Buffer.from([0x05, 0x00]));
  const notBefore = new Date(Math.floor(createdAt / 1000) * 1000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  const subject = name(`Cohort SAML signing ${String(privateJwk.kid ?? '').slice(0, 40)}`.trim());
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    algorithm,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  // Parse it back: a mistake here must fail at start, not at a service provider.
  new X509Certificate(pem);
  return pem;
}

/** The private key as PEM, the form xml-crypto signs with. */
export function privateKeyPem(privateJwk: Record<string, unknown>): string {
  return createPrivateKey({ key: privateJwk as never, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }) as string;
}
