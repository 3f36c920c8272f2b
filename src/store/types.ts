// Durable data: users, OIDC clients, signing keys. Embedded default is one SQLite file; PostgreSQL follows.

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

export interface DurableStore {
  users: UserStore;
  clients: ClientStore;
  keys: KeyStore;
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
