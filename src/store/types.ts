// Durable data: users, OIDC clients, signing keys, the audit log. Backends: one embedded SQLite file per node
// (sqlite/), or one PostgreSQL database shared by every node (postgres/).

export interface User {
  id: string;
  username: string;
  email?: string;
  displayName?: string;
  groups: string[];
  roles: string[];
  disabled: boolean;
  /** Set when the password must be changed at next sign-in (first admin's one-time password). */
  mustChangePassword: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last change to the profile, password or status. */
  updatedAt: number;
}

export interface NewUser {
  username: string;
  password: string;
  email?: string;
  displayName?: string;
  groups?: string[];
  roles?: string[];
  mustChangePassword?: boolean;
}

export interface UserStore {
  create(user: NewUser): Promise<User>;
  getById(id: string): Promise<User | undefined>;
  getByUsername(username: string): Promise<User | undefined>;
  /** Ordered by username (case-insensitively). */
  list(): Promise<User[]>;
  /** Verifies the password in constant time; a missing or disabled user costs the same as a wrong password. */
  verifyPassword(username: string, password: string): Promise<User | undefined>;
  /** Replaces the password; clears mustChangePassword unless `options.mustChange` is true. */
  setPassword(username: string, password: string, options?: { mustChange?: boolean }): Promise<void>;
  setDisabled(username: string, disabled: boolean): Promise<void>;
  remove(username: string): Promise<void>;
}

/**
 * A user exactly as stored, password hash included (an scrypt PHC string, never a password). Only for copying users
 * from the console's store to engines' stores over the authenticated back channel: never shown, never logged.
 */
export interface UserRecord extends User {
  passwordHash: string;
}

/** Users as rows, for replication (runtime/users.ts); the embedded backends both have it. */
export interface UserReplicaStore {
  /** Changes whenever a user is added, changed or removed (cheap: read every second by the console). */
  changeMark(): Promise<string>;
  /** Users with their hashes ordered by id; `after` (an id) and `limit` page through them; `id`: that user only. */
  records(options?: { after?: string; limit?: number; id?: string }): Promise<UserRecord[]>;
  /** Every user's id and updatedAt. */
  versions(): Promise<Array<{ id: string; updatedAt: number }>>;
  /**
   * In one transaction: writes each record as it is (replacing the row with its id, and a row of another id with
   * the same username: a user removed and added again), except over a stored row with a newer updatedAt; then
   * removes the rows of `remove` (ids). Records are validated like new users; INVALID when one is not a user.
   */
  applyReplica(change: { upsert: UserRecord[]; remove: string[] }): Promise<void>;
}

/** What an administrator registers; secrets are stored hashed and shown once at creation. */
export interface ClientRecord {
  clientId: string;
  name?: string;
  public: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
  grantTypes: string[];
  /** SHA-256 of the client secret, base64url (secrets are 256-bit random, so a fast hash is enough). */
  secretHash?: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface NewClient {
  clientId?: string;
  name?: string;
  public?: boolean;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  grantTypes?: string[];
}

export interface ClientStore {
  /** Creates the client and returns the plaintext secret once (undefined for public clients). */
  create(client: NewClient): Promise<{ client: ClientRecord; secret?: string }>;
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** In creation order. */
  list(): Promise<ClientRecord[]>;
  remove(clientId: string): Promise<void>;
  /**
   * Changes the given fields of an existing client; clientId, public, the secret hash and createdAt stay as they
   * are. The result is validated as a whole (a client left without redirect URIs for its grants is INVALID).
   * NOT_FOUND when absent.
   */
  update(clientId: string, changes: ClientChanges): Promise<ClientRecord>;
  /**
   * Writes a whole record as given, secret hash and createdAt included, replacing one with the same clientId:
   * for configuration imports and replicated copies, never for administrators' edits.
   */
  put(record: ClientRecord): Promise<ClientRecord>;
}

/** What ClientStore.update() may change. */
export type ClientChanges = Partial<Pick<NewClient, 'name' | 'redirectUris' | 'postLogoutRedirectUris' | 'backchannelLogoutUri' | 'grantTypes'>>;

/** A SAML binding URI's short name. */
export type SamlBinding = 'HTTP-Redirect' | 'HTTP-POST' | 'HTTP-Artifact' | 'SOAP';

export interface SamlEndpoint {
  binding: SamlBinding;
  location: string;
  /** AssertionConsumerService index (absent for SingleLogoutService). */
  index?: number;
  isDefault?: boolean;
  /** SingleLogoutService ResponseLocation, when it differs from location. */
  responseLocation?: string;
}

/** A SAML 2.0 service provider, registered from its metadata plus the IdP-side policy for it. */
export interface ServiceProviderRecord {
  entityId: string;
  name?: string;
  /** The metadata as registered (kept so it can be re-parsed and exported). */
  metadataXml: string;
  assertionConsumerServices: SamlEndpoint[];
  singleLogoutServices: SamlEndpoint[];
  /** PEM certificates the SP signs with; requests are verified against these only. */
  signingCertificates: string[];
  /** PEM certificates for assertion encryption (the first is used). */
  encryptionCertificates: string[];
  /** The SP's AuthnRequestsSigned: unsigned requests are refused. */
  requireSignedRequests: boolean;
  /** Accept RSA-SHA1 signatures from this SP (Shibboleth SP 3 signs with SHA-1 by default). */
  allowSha1: boolean;
  /** NameID format used when the request does not ask for one: persistent | transient | emailAddress | unspecified. */
  nameIdFormat: 'persistent' | 'transient' | 'emailAddress' | 'unspecified';
  /** Attributes released to this SP (names from: username, email, displayName, groups, roles). */
  attributes: string[];
  signResponse: boolean;
  signAssertion: boolean;
  /** Encrypt the assertion to the SP's encryption certificate: 'none', 'aes256-gcm' or 'aes256-cbc' (RSA-OAEP key transport). */
  encryptAssertion: 'none' | 'aes256-gcm' | 'aes256-cbc';
  /** Epoch milliseconds. */
  createdAt: number;
}

export type NewServiceProvider = Omit<ServiceProviderRecord, 'createdAt'>;

export interface ServiceProviderStore {
  /** Fails with CONFLICT when the entityID is already registered. */
  create(sp: NewServiceProvider): Promise<ServiceProviderRecord>;
  /** Replaces everything but createdAt; NOT_FOUND when absent. */
  update(sp: NewServiceProvider): Promise<ServiceProviderRecord>;
  get(entityId: string): Promise<ServiceProviderRecord | undefined>;
  /** In creation order. */
  list(): Promise<ServiceProviderRecord[]>;
  remove(entityId: string): Promise<void>;
}

/** A private JWK (RS256 / ES256 signing keys) or a symmetric secret (cookie keys). */
export interface KeyRecord {
  kid: string;
  use: 'sig' | 'cookie';
  alg: string;
  /** JWK for signing keys, base64url secret for cookie keys. */
  material: string;
  /** Epoch milliseconds. */
  createdAt: number;
  retired: boolean;
}

export interface KeyStore {
  add(key: KeyRecord): Promise<void>;
  /** Every key of that use, retired ones included, oldest first (by createdAt, then kid). */
  list(use: KeyRecord['use']): Promise<KeyRecord[]>;
  retire(kid: string): Promise<void>;
}

/** One administrative event: who did what to which record. Appended, never changed. */
export interface AuditEntry {
  /** Increasing in append order; never reused. */
  id: number;
  /** Epoch milliseconds, from the store's clock. */
  at: number;
  /** Who acted: a username, or a name such as 'cli' or 'system'. 1 to 128 characters. */
  actor: string;
  /** What happened, as noun.past_verb: 'user.created', 'client.removed'. */
  action: string;
  /** The record acted on (a username, a client_id, a kid), at most 256 characters. */
  target?: string;
  /** Anything else worth keeping, as a JSON object of at most 16 KiB. Key order is not kept. */
  details?: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditQuery {
  /** Most entries returned. @default 100 (at most 1000) */
  limit?: number;
  /** Only entries with a smaller id: the last id of the previous page, to page backwards. */
  before?: number;
  actor?: string;
  action?: string;
  target?: string;
}

export interface AuditLog {
  /** Records the entry with the next id and the store's time; returns it as stored. */
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first; filters match exactly. */
  list(query?: AuditQuery): Promise<AuditEntry[]>;
}

/**
 * One published runtime configuration: immutable once written. `snapshot` is the canonical JSON text the digest was
 * computed over (kept as text, so the bytes that were verified are the bytes that are stored).
 */
export interface ConfigVersion {
  /** 1, 2, 3... in publishing order. */
  version: number;
  /** Epoch milliseconds. */
  publishedAt: number;
  /** Who published it (an admin's username, 'token', 'cli'). */
  publishedBy: string;
  /** SHA-256 of `snapshot`, lowercase hex. */
  digest: string;
  snapshot: string;
}

export type ConfigVersionSummary = Omit<ConfigVersion, 'snapshot'>;

export interface ConfigVersionStore {
  /**
   * Records a published version. Idempotent: the same (version, digest) again is 'exists', so nodes sharing one
   * database and nodes receiving a push both just work; another digest for an existing version is a CONFLICT.
   */
  insert(version: ConfigVersion): Promise<'inserted' | 'exists'>;
  get(version: number): Promise<ConfigVersion | undefined>;
  /** The highest version, or undefined when none was ever published. */
  latest(): Promise<ConfigVersion | undefined>;
  /** Newest first, at most `limit` (default 100). */
  list(limit?: number): Promise<ConfigVersionSummary[]>;
}

/** One named settings document (a JSON object) with when and by whom it was last written. */
export interface SettingsEntry {
  name: string;
  value: Record<string, unknown>;
  /** Epoch milliseconds. */
  updatedAt: number;
  updatedBy: string;
}

export interface SettingsStore {
  get(name: string): Promise<SettingsEntry | undefined>;
  /** Creates or replaces the document (a JSON object of at most 64 KiB). */
  put(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry>;
  /**
   * Stores `value` only when no document of that name exists, and returns whichever is stored: for values that
   * must be decided once (a store's identity), however many processes open the store at once.
   */
  putIfAbsent(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry>;
}

export interface DurableStore {
  users: UserStore;
  clients: ClientStore;
  serviceProviders: ServiceProviderStore;
  keys: KeyStore;
  configVersions: ConfigVersionStore;
  settings: SettingsStore;
  /** Users as rows for replication from the console; both built-in backends have it. */
  userReplicas?: UserReplicaStore;
  /** Optional so that a backend without one still fits; both built-in backends have it. */
  audit?: AuditLog;
  /**
   * Runs `work` while holding the named lock that every connection to this database respects, for one-time work
   * several nodes may start at once (first-start bootstrap). Only backends shared by several hosts have it; for the
   * others, a lock file in the data directory does the job (bootstrap-lock.ts).
   */
  withLock?<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Cheap round trip used by /status/v2. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID' | 'UNAVAILABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
