// Validation shared by both backends for the configuration tables: client updates and imports, published versions
// and settings documents. Same rule as validation.ts: a StoreError('INVALID') naming the field.
import { StoreError, type ClientChanges, type ClientRecord, type ConfigVersion } from './types.js';
import { validateNewClient, type ValidClient } from './validation.js';

const invalid = (field: string, rule: string) => new StoreError('INVALID', `${field}: ${rule}`);

/** The client after `changes`, validated as a whole exactly like a new one. */
export function validateClientUpdate(current: ClientRecord, changes: ClientChanges): ValidClient {
  if (typeof changes !== 'object' || changes === null) throw invalid('changes', 'must be an object');
  const pick = <K extends keyof ClientChanges>(key: K) => (changes[key] !== undefined ? changes[key] : current[key]);
  return validateNewClient({
    clientId: current.clientId,
    public: current.public,
    name: pick('name'),
    redirectUris: pick('redirectUris') ?? [],
    postLogoutRedirectUris: pick('postLogoutRedirectUris'),
    backchannelLogoutUri: pick('backchannelLogoutUri'),
    grantTypes: pick('grantTypes'),
  } as Parameters<typeof validateNewClient>[0]);
}

/** A whole record for put(): the same rules as a new client, plus a secret hash exactly when confidential. */
export function validateClientRecord(record: ClientRecord): ValidClient & { secretHash?: string; createdAt: number } {
  if (typeof record !== 'object' || record === null) throw invalid('client', 'must be an object');
  const valid = validateNewClient({ ...record, clientId: record.clientId });
  if (valid.public !== (record.secretHash === undefined)) {
    throw invalid('secretHash', 'a confidential client needs its secret hash and a public client has none');
  }
  if (record.secretHash !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(record.secretHash)) {
    throw invalid('secretHash', 'must be a base64url SHA-256 digest');
  }
  if (!Number.isSafeInteger(record.createdAt) || record.createdAt < 0) throw invalid('createdAt', 'must be epoch milliseconds');
  return { ...valid, ...(record.secretHash ? { secretHash: record.secretHash } : {}), createdAt: record.createdAt };
}

export function validateConfigVersion(v: ConfigVersion): void {
  if (!Number.isSafeInteger(v.version) || v.version < 1) throw invalid('version', 'must be a positive integer');
  if (!Number.isSafeInteger(v.publishedAt) || v.publishedAt < 0) throw invalid('publishedAt', 'must be epoch milliseconds');
  if (typeof v.publishedBy !== 'string' || v.publishedBy.length < 1 || v.publishedBy.length > 128) {
    throw invalid('publishedBy', 'must be 1 to 128 characters');
  }
  if (typeof v.digest !== 'string' || !/^[0-9a-f]{64}$/.test(v.digest)) throw invalid('digest', 'must be 64 lowercase hex digits');
  if (typeof v.snapshot !== 'string' || v.snapshot.length === 0 || v.snapshot.includes('\u0000')) {
    throw invalid('snapshot', 'must be non-empty JSON text');
  }
}

const SETTING_NAME = /^[a-z][a-zA-Z0-9._-]{0,63}$/;
const MAX_SETTING_BYTES = 65_536;

/** Returns the document's JSON text. */
export function validateSetting(name: string, value: Record<string, unknown>, updatedBy: string): string {
  if (typeof name !== 'string' || !SETTING_NAME.test(name)) throw invalid('name', 'must be 1 to 64 letters, digits, . _ -, starting with a letter');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('value', 'must be a JSON object');
  if (typeof updatedBy !== 'string' || updatedBy.length < 1 || updatedBy.length > 128) throw invalid('updatedBy', 'must be 1 to 128 characters');
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_SETTING_BYTES || json.includes('\\u0000')) throw invalid('value', 'must be at most 64 KiB of JSON without NUL');
  return json;
}

/** Most versions list() returns. */
export const MAX_VERSIONS_LISTED = 1000;
