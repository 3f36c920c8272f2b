// Input rules for durable records, shared by every backend so SQLite and PostgreSQL accept exactly the same data.
// Each check throws StoreError('INVALID') with a message that starts with the offending field's name.
import { randomBytes } from 'node:crypto';
import { StoreError, type AuditQuery, type KeyRecord, type NewAuditEntry, type ClientRecord, type NewClient, type NewUser, type UserRecord } from './types.js';

const invalid = (field: string, rule: string) => new StoreError('INVALID', `${field}: ${rule}`);

/** Control characters (C0, DEL, C1) and Unicode line/paragraph separators: never part of a name, and unsafe in logs. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

// ---------------------------------------------------------------------------------------------------------------- users

/** Letters and digits of any script, plus . _ @ -, 1 to 64 characters (code points), after NFKC normalisation. */
const USERNAME = /^[\p{L}\p{Nd}._@-]{1,64}$/u;

/**
 * The username as stored and displayed: NFKC-normalised (so full-width and compatibility forms become their plain
 * letters) and validated. Case is kept for display; uniqueness and lookups use usernameKey().
 */
export function normaliseUsername(username: string): string {
  if (typeof username !== 'string') throw invalid('username', 'must be a string');
  const normalised = username.normalize('NFKC');
  if (!USERNAME.test(normalised)) {
    throw invalid('username', 'must be 1 to 64 letters, digits or . _ @ - (no spaces)');
  }
  return normalised;
}

/** The case-insensitive key usernames are unique on and looked up by. */
export function usernameKey(username: string): string {
  return normaliseUsername(username).toLowerCase();
}

/** Like usernameKey(), but undefined for a string that can never be a username (lookups then find nothing). */
export function tryUsernameKey(username: string): string | undefined {
  try {
    return usernameKey(username);
  } catch {
    return undefined;
  }
}

/** The shape of an scrypt PHC string (src/auth/password.ts); only such a string is ever stored as a hash. */
const PASSWORD_HASH = /^\$scrypt\$ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/]{11,88}\$[A-Za-z0-9+/]{22,171}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A replicated user row (UserRecord) checked field by field as a new user would be, and returned with only the
 * known fields. INVALID names the first bad field (never the hash's value).
 */
/** A user's profile fields, validated: the rules both stores apply to a new user and replication to a copied one. */
export function validateUserProfile(u: Pick<NewUser, 'username' | 'email' | 'displayName' | 'groups' | 'roles'>) {
  return {
    username: normaliseUsername(u.username),
    email: validateEmail(u.email),
    displayName: validateLabel('displayName', u.displayName),
    groups: validateNames('groups', u.groups),
    roles: validateNames('roles', u.roles),
  };
}

export function validateUserRecord(value: unknown): UserRecord {
  const r = value as Partial<UserRecord> | null;
  if (!r || typeof r !== 'object') throw invalid('user', 'must be an object');
  if (typeof r.id !== 'string' || !UUID.test(r.id)) throw invalid('id', 'must be a UUID');
  if (normaliseUsername(r.username as string) !== r.username) throw invalid('username', 'must be stored normalised');
  const { username, email, displayName, groups, roles } = validateUserProfile(r as UserRecord);
  if (typeof r.passwordHash !== 'string' || !PASSWORD_HASH.test(r.passwordHash)) throw invalid('passwordHash', 'must be an scrypt hash');
  for (const field of ['disabled', 'mustChangePassword'] as const) {
    if (typeof r[field] !== 'boolean') throw invalid(field, 'must be true or false');
  }
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (!Number.isSafeInteger(r[field]) || (r[field] as number) < 0) throw invalid(field, 'must be epoch milliseconds');
  }
  return {
    id: r.id, username, ...(email === undefined ? {} : { email }), ...(displayName === undefined ? {} : { displayName }),
    groups, roles, disabled: r.disabled!, mustChangePassword: r.mustChangePassword!, createdAt: r.createdAt!, updatedAt: r.updatedAt!,
    passwordHash: r.passwordHash,
  };
}

export function validateEmail(email: string | undefined): string | undefined {
  if (email === undefined || email === '') return undefined;
  // Deliberately loose: one @ with something on each side, no spaces. The only real check of an address is mail.
  if (typeof email !== 'string' || email.length > 254 || CONTROL.test(email) || !/^[^\s@]+@[^\s@]+$/u.test(email)) {
    throw invalid('email', 'must be an address like name@example.com, at most 254 characters');
  }
  return email;
}

/** A free-text label (a user's display name, a client's name): trimmed, at most 128 characters, no controls. */
export function validateLabel(field: string, label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  if (typeof label !== 'string') throw invalid(field, 'must be a string');
  const trimmed = label.normalize('NFC').trim();
  if (trimmed === '') return undefined;
  if ([...trimmed].length > 128 || CONTROL.test(trimmed)) {
    throw invalid(field, 'must be at most 128 characters without control characters');
  }
  return trimmed;
}

/** Groups and roles: trimmed, de-duplicated names of 1 to 64 characters without control characters or commas. */
export function validateNames(field: 'groups' | 'roles', names: string[] | undefined): string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names)) throw invalid(field, 'must be a list of names');
  if (names.length > 256) throw invalid(field, 'must have at most 256 entries');
  const out: string[] = [];
  for (const raw of names) {
    const name = typeof raw === 'string' ? raw.normalize('NFC').trim() : '';
    // Commas are refused because the CLI and exports write these lists comma-separated.
    if (name === '' || [...name].length > 64 || CONTROL.test(name) || name.includes(',')) {
      throw invalid(field, `'${String(raw).slice(0, 64)}' must be 1 to 64 characters without control characters or commas`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

// -------------------------------------------------------------------------------------------------------------- clients

/** Grant types a client may be registered for. Implicit and password grants are left out on purpose (OAuth 2.1). */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

/** Unreserved URL characters only, so a client_id needs no escaping in a URL, a form or HTTP Basic credentials. */
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** 16 random bytes, base64url: 22 characters, 128 bits, so client ids cannot be guessed or enumerated. */
export function generateClientId(): string {
  return randomBytes(16).toString('base64url');
}

export function validateClientId(clientId: string): string {
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw invalid('clientId', 'must be 1 to 128 characters of letters, digits and . _ ~ -');
  }
  return clientId;
}

function isLoopbackHost(hostname: string): boolean {
  // URL.hostname keeps IPv6 brackets and lower-cases names; 127.0.0.0/8 is all loopback.
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The rule for every URI Cohort sends users or messages to (redirect, post-logout redirect, back-channel logout):
 * an absolute http(s) URL without a fragment and without user:password; https is required, except that plain http
 * is allowed for loopback hosts (localhost, 127.0.0.0/8, [::1]), where nothing crosses a network (RFC 8252 §7.3,
 * native apps and local development). The string is stored as given, because redirect URIs match exactly.
 */
export function validateClientUri(field: string, uri: string): string {
  const rule = 'must be an absolute https URL without a fragment (http only for localhost or a loopback address)';
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2048 || /\s/u.test(uri) || CONTROL.test(uri)) {
    throw invalid(field, `'${String(uri).slice(0, 200)}' ${rule}`);
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid(field, `'${uri}' ${rule}`);
  }
  const httpsOrLoopback = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!httpsOrLoopback || uri.includes('#') || url.username !== '' || url.password !== '' || url.hostname === '') {
    throw invalid(field, `'${uri}' ${rule}`);
  }
  return uri;
}

function validateUriList(field: string, uris: string[] | undefined): string[] {
  if (uris === undefined) return [];
  if (!Array.isArray(uris)) throw invalid(field, 'must be a list of URLs');
  if (uris.length > 64) throw invalid(field, 'must have at most 64 entries');
  const out: string[] = [];
  for (const uri of uris) {
    validateClientUri(field, uri);
    if (!out.includes(uri)) out.push(uri);
  }
  return out;
}

/** A client's registration as checked, before the store adds the secret hash and creation time. */
export type ValidClient = Omit<ClientRecord, 'secretHash' | 'createdAt'>;

/**
 * Checks a new client and fills in defaults: a random client_id, and grant types authorization_code + refresh_token,
 * plus client_credentials for a confidential client (a public client has no secret to authenticate that grant).
 */
export function validateNewClient(client: NewClient): ValidClient {
  const isPublic = client.public === true;
  const clientId = client.clientId === undefined ? generateClientId() : validateClientId(client.clientId);
  const name = validateLabel('name', client.name);
  const grantTypes = client.grantTypes === undefined
    ? (isPublic ? ['authorization_code', 'refresh_token'] : ['authorization_code', 'refresh_token', 'client_credentials'])
    : [...new Set(client.grantTypes)];
  for (const grant of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
      throw invalid('grantTypes', `'${String(grant).slice(0, 100)}' is not one of ${GRANT_TYPES.join(', ')}`);
    }
  }
  if (grantTypes.length === 0) throw invalid('grantTypes', 'must name at least one grant type');
  if (isPublic && grantTypes.includes('client_credentials')) {
    throw invalid('grantTypes', 'client_credentials needs a confidential client (a public client has no secret)');
  }
  const redirectUris = validateUriList('redirectUris', client.redirectUris);
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw invalid('redirectUris', 'at least one redirect URI is needed for the authorization_code grant');
  }
  const postLogoutRedirectUris = validateUriList('postLogoutRedirectUris', client.postLogoutRedirectUris);
  const backchannelLogoutUri = client.backchannelLogoutUri === undefined || client.backchannelLogoutUri === ''
    ? undefined
    : validateClientUri('backchannelLogoutUri', client.backchannelLogoutUri);
  return { clientId, name, public: isPublic, redirectUris, postLogoutRedirectUris, backchannelLogoutUri, grantTypes };
}

// ----------------------------------------------------------------------------------------------------------------- keys

export function validateKeyRecord(key: KeyRecord): void {
  if (typeof key.kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(key.kid)) {
    throw invalid('kid', 'must be 1 to 128 printable ASCII characters without spaces');
  }
  if (key.use !== 'sig' && key.use !== 'cookie') throw invalid('use', "must be 'sig' or 'cookie'");
  if (typeof key.alg !== 'string' || !/^[\x21-\x7e]{1,32}$/.test(key.alg)) {
    throw invalid('alg', 'must be 1 to 32 printable ASCII characters');
  }
  // NUL is refused because PostgreSQL text cannot hold it; JWKs and base64url secrets never contain one.
  if (typeof key.material !== 'string' || key.material.length === 0 || key.material.length > 65536
    || key.material.includes('\u0000')) {
    throw invalid('material', 'must be a non-empty string of at most 64 KiB without NUL characters');
  }
  if (!Number.isSafeInteger(key.createdAt) || key.createdAt < 0) throw invalid('createdAt', 'must be epoch milliseconds');
  if (typeof key.retired !== 'boolean') throw invalid('retired', 'must be a boolean');
}

// ------------------------------------------------------------------------------------------------------------ audit log

/** noun.past_verb, lower case: 'user.created', 'client.secret_rotated'. */
const AUDIT_ACTION = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;
/** Unpaired UTF-16 surrogates: JSON can carry them as escapes, but PostgreSQL's jsonb refuses them. */
const LONE_SURROGATE = /\p{Cs}/u;
export const MAX_AUDIT_DETAILS_BYTES = 16_384;
export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

function auditText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || [...value].length > max || CONTROL.test(value)
    || LONE_SURROGATE.test(value)) {
    throw invalid(field, `must be 1 to ${max} characters without control characters`);
  }
  return value;
}

function auditAction(value: unknown): string {
  if (typeof value !== 'string' || value.length > 64 || !AUDIT_ACTION.test(value)) {
    throw invalid('action', "must be noun.past_verb in lower case, at most 64 characters (e.g. 'user.created')");
  }
  return value;
}

/**
 * Checks an audit entry and returns what is stored: details as their JSON text (undefined values dropped, as JSON
 * does), or undefined when there are none. Both backends store that text, so both return the same object.
 */
export function validateAuditEntry(entry: NewAuditEntry): { actor: string; action: string; target?: string; detailsJson?: string } {
  if (typeof entry !== 'object' || entry === null) throw invalid('entry', 'must be an object');
  const actor = auditText('actor', entry.actor, 128);
  const action = auditAction(entry.action);
  const target = entry.target === undefined ? undefined : auditText('target', entry.target, 256);
  if (entry.details === undefined) return { actor, action, ...(target === undefined ? {} : { target }) };
  const details = entry.details as unknown;
  const proto = typeof details === 'object' && details !== null ? Object.getPrototypeOf(details) : undefined;
  if (proto !== Object.prototype && proto !== null) throw invalid('details', 'must be a plain JSON object');
  let json: string;
  try {
    json = JSON.stringify(details);
  } catch (err) {
    throw new StoreError('INVALID', `details: must be serialisable as JSON (${(err as Error).message})`, { cause: err });
  }
  // A toJSON() member could turn the object into something else.
  if (typeof json !== 'string' || !json.startsWith('{')) throw invalid('details', 'must be a plain JSON object');
  if (Buffer.byteLength(json, 'utf8') > MAX_AUDIT_DETAILS_BYTES) {
    throw invalid('details', `must be at most ${MAX_AUDIT_DETAILS_BYTES} bytes as JSON`);
  }
  // JSON.stringify writes NUL and lone surrogates as \u escapes; jsonb refuses both, so neither backend takes them.
  if (/\\u0000|\\ud[89a-f][0-9a-f]{2}/i.test(json.replace(/\\\\/g, ''))) {
    throw invalid('details', 'must not contain NUL characters or unpaired surrogates');
  }
  return { actor, action, ...(target === undefined ? {} : { target }), detailsJson: json };
}

/** Checks a list query; filters get the same rules as the fields they match. */
export function validateAuditQuery(query: AuditQuery = {}): Required<Pick<AuditQuery, 'limit'>> & AuditQuery {
  if (typeof query !== 'object' || query === null) throw invalid('query', 'must be an object');
  const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
  }
  if (query.before !== undefined && (!Number.isSafeInteger(query.before) || query.before < 1)) {
    throw invalid('before', 'must be an entry id');
  }
  return {
    limit,
    ...(query.before === undefined ? {} : { before: query.before }),
    ...(query.actor === undefined ? {} : { actor: auditText('actor', query.actor, 128) }),
    ...(query.action === undefined ? {} : { action: auditAction(query.action) }),
    ...(query.target === undefined ? {} : { target: auditText('target', query.target, 256) }),
  };
}
