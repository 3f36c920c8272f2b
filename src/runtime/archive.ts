// The configuration archive: the runtime configuration (clients, service providers, keys, settings) as one JSON
// file that moves between clusters or into scripted deployments. Secret fields (key material, client secret
// hashes) are each encrypted with AES-256-GCM, bound to their record; an HMAC-SHA256 over the canonical JSON of
// everything else makes any change detectable. Both keys are derived with HKDF-SHA256 from the cluster secret
// under labels of their own, so neither use weakens the back channel's key (cluster/secret.ts).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeSecret } from '../cluster/config.js';
import type { ClientRecord, KeyRecord } from '../store/types.js';
import { canonicalJson } from './canonical.js';
import type { RuntimeContent } from './types.js';

export const ARCHIVE_FORMAT = 'cohort-config-archive';
export const ARCHIVE_FORMAT_VERSION = 1;
const HKDF_SALT = Buffer.from('cohort-cluster-secret', 'utf8');
const ENCRYPTION_INFO = 'Cohort config archive encryption v1';
const MAC_INFO = 'Cohort config archive MAC v1';
const ENC_PREFIX = 'enc:v1:';

export interface ConfigArchive {
  format: typeof ARCHIVE_FORMAT;
  formatVersion: number;
  createdAt: string;
  clusterName: string;
  content: RuntimeContent;
  /** Which fields hold ciphertext ('enc:v1:iv.data.tag'), for readers of the file. */
  secretsEncrypted: string[];
  /** HMAC-SHA256, base64url, over the canonical JSON of every other member. */
  mac: string;
}

export class ArchiveError extends Error {
  constructor(readonly code: 'ARCHIVE_INVALID' | 'ARCHIVE_ALTERED', message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

const ALTERED = 'archive was altered or made with another cluster secret';

function keys(secret: string): { enc: Buffer; mac: Buffer } {
  const ikm = decodeSecret(secret);
  return {
    enc: Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, Buffer.from(ENCRYPTION_INFO, 'utf8'), 32)),
    mac: Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, Buffer.from(MAC_INFO, 'utf8'), 32)),
  };
}

function encrypt(key: Buffer, plaintext: string, binding: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(binding, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${ENC_PREFIX}${iv.toString('base64url')}.${data.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

function decrypt(key: Buffer, value: unknown, binding: string): string {
  if (typeof value !== 'string' || !value.startsWith(ENC_PREFIX)) throw new ArchiveError('ARCHIVE_INVALID', `${binding} is not encrypted`);
  const [iv, data, tag] = value.slice(ENC_PREFIX.length).split('.').map((p) => Buffer.from(p, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv!);
    decipher.setAAD(Buffer.from(binding, 'utf8'));
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
  } catch {
    throw new ArchiveError('ARCHIVE_ALTERED', ALTERED);
  }
}

function macOf(key: Buffer, unsigned: Omit<ConfigArchive, 'mac'>): string {
  return createHmac('sha256', key).update(canonicalJson(unsigned)).digest('base64url');
}

const clientBinding = (c: ClientRecord) => `clients/${c.clientId}/secretHash`;
const keyBinding = (k: KeyRecord) => `keys/${k.kid}/material`;

export function createArchive(content: RuntimeContent, secret: string, clusterName: string, now = new Date()): ConfigArchive {
  const k = keys(secret);
  const unsigned: Omit<ConfigArchive, 'mac'> = {
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    createdAt: now.toISOString(),
    clusterName,
    content: {
      clients: content.clients.map((c) => (c.secretHash === undefined ? c : { ...c, secretHash: encrypt(k.enc, c.secretHash, clientBinding(c)) })),
      serviceProviders: content.serviceProviders,
      keys: content.keys.map((key) => ({ ...key, material: encrypt(k.enc, key.material, keyBinding(key)) })),
      settings: content.settings,
    },
    secretsEncrypted: ['content.clients[].secretHash', 'content.keys[].material'],
  };
  return { ...unsigned, mac: macOf(k.mac, unsigned) };
}

/** Checks the MAC first (nothing of an altered archive is used), then decrypts the secrets. */
export function openArchive(raw: unknown, secret: string): { content: RuntimeContent; clusterName: string; createdAt: string } {
  const archive = raw as Partial<ConfigArchive> | null;
  if (!archive || typeof archive !== 'object' || archive.format !== ARCHIVE_FORMAT) {
    throw new ArchiveError('ARCHIVE_INVALID', 'not a Cohort configuration archive (format is not cohort-config-archive)');
  }
  if (archive.formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw new ArchiveError('ARCHIVE_INVALID', `archive format version ${String(archive.formatVersion)} is not supported (this Cohort reads ${ARCHIVE_FORMAT_VERSION})`);
  }
  const k = keys(secret);
  const { mac, ...unsigned } = archive as ConfigArchive;
  const expected = Buffer.from(macOf(k.mac, unsigned), 'base64url');
  const given = Buffer.from(typeof mac === 'string' ? mac : '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ArchiveError('ARCHIVE_ALTERED', ALTERED);
  const c = unsigned.content;
  if (!c || !Array.isArray(c.clients) || !Array.isArray(c.serviceProviders) || !Array.isArray(c.keys) || typeof c.settings !== 'object') {
    throw new ArchiveError('ARCHIVE_INVALID', 'the archive lacks clients, serviceProviders, keys or settings');
  }
  return {
    clusterName: unsigned.clusterName,
    createdAt: unsigned.createdAt,
    content: {
      clients: c.clients.map((cl) => (cl.secretHash === undefined ? cl : { ...cl, secretHash: decrypt(k.enc, cl.secretHash, clientBinding(cl)) })),
      serviceProviders: c.serviceProviders,
      keys: c.keys.map((key) => ({ ...key, material: decrypt(k.enc, key.material, keyBinding(key)) })),
      settings: c.settings,
    },
  };
}
