// Every configuration knob of Cohort, as data: path, type, default, range, environment variable and a one-line doc.
// The loader (load.ts), the validators (validate.ts), `cohort config docs` and docs/configuration.md all read this
// one list. Adding a knob = one entry here + the field in types.ts; the compile-time checks at the bottom of this
// file fail until both agree.
import { hostname } from 'node:os';
import type { CohortConfig } from './types.js';

type Leaf = string | number | boolean;

/** Dotted paths of every leaf of CohortConfig, e.g. 'http.port', 'state.local.maxSessions'. */
export type ConfigPath = LeafPaths<CohortConfig>;
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${Prefix}${K}` : LeafPaths<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** The type of the value at a dotted path. */
export type ValueAt<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T ? ValueAt<T[Head], Rest> : never
  : P extends keyof T ? T[P] : never;

/** A default that depends on the machine (e.g. its host name): docs show `describe`, the loader calls compute(). */
export interface DynamicDefault<T> {
  describe: string;
  compute(): T;
}

interface KnobBase {
  path: ConfigPath;
  /** COHORT_ + the path upper-snake-cased; see envVarOf(). */
  env: string;
  /** One line, shown in `cohort config docs` and docs/configuration.md. Says why the default is what it is. */
  doc: string;
  /** Redacted by `cohort config show` and never echoed in validation errors. */
  secret?: boolean;
}

export interface StringKnob extends KnobBase {
  type: 'string';
  default: string | DynamicDefault<string>;
  /** Defaults to 0 (the empty string is allowed). */
  minLength?: number;
  maxLength: number;
  /** Extra rule beyond length: returns the reason the value is rejected, or undefined. `rule` documents it. */
  check?: (value: string) => string | undefined;
  rule?: string;
}

export interface IntegerKnob extends KnobBase {
  type: 'integer';
  default: number;
  min: number;
  max: number;
  powerOfTwo?: boolean;
}

export interface BooleanKnob extends KnobBase {
  type: 'boolean';
  default: boolean;
}

export interface EnumKnob extends KnobBase {
  type: 'enum';
  values: readonly string[];
  default: string;
}

export type Knob = StringKnob | IntegerKnob | BooleanKnob | EnumKnob;
export type KnobType = Knob['type'];

/** COHORT_ + path upper-snake-cased: 'state.local.maxSessions' -> COHORT_STATE_LOCAL_MAX_SESSIONS. */
export function envVarOf(path: string): string {
  return `COHORT_${path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

// Entry builders: they fill in `env` from the path so the naming rule holds everywhere by construction.
type Spec<K extends Knob> = Omit<K, 'type' | 'env'> & { env?: string };
function withEnv<K extends Knob>(type: K['type'], spec: Spec<K>): K {
  return { ...spec, type, env: spec.env ?? envVarOf(spec.path) } as K;
}
// Generic in the path so SCHEMA keeps each literal path: the compile-time checks at the bottom rely on it.
function str<P extends ConfigPath>(spec: Spec<StringKnob> & { path: P }) {
  return withEnv<StringKnob>('string', spec) as StringKnob & { path: P };
}
function int<P extends ConfigPath>(spec: Spec<IntegerKnob> & { path: P }) {
  return withEnv<IntegerKnob>('integer', spec) as IntegerKnob & { path: P };
}
function bool<P extends ConfigPath>(spec: Spec<BooleanKnob> & { path: P }) {
  return withEnv<BooleanKnob>('boolean', spec) as BooleanKnob & { path: P };
}
function oneOf<P extends ConfigPath, const V extends readonly string[]>(
  spec: Omit<Spec<EnumKnob>, 'values' | 'default'> & { path: P; values: V; default: V[number] },
) {
  return withEnv<EnumKnob>('enum', spec) as EnumKnob & { path: P; values: V };
}

/** http.issuer: empty, or an absolute http(s) URL that oidc-provider and SAML metadata can use verbatim. */
function checkIssuer(value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be empty or an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http: or https:';
  if (url.search || url.hash || url.username || url.password) return 'must not contain a query, fragment or credentials';
  if (value.endsWith('/')) return "must not end with '/'";
  return undefined;
}

/** saml.artifactEndpoints: "index=url" pairs, unique indexes 0-65535, absolute http(s) URLs. */
export function parseArtifactEndpoints(value: string): Array<{ index: number; location: string }> {
  if (value.trim() === '') return [];
  return value.split(',').map((pair) => {
    const [index, location] = pair.trim().split(/=(.*)/s, 2) as [string, string | undefined];
    return { index: Number(index), location: (location ?? '').trim() };
  });
}

function artifactEndpointsProblem(value: string): string | undefined {
  const seen = new Set<number>();
  for (const { index, location } of parseArtifactEndpoints(value)) {
    if (!Number.isInteger(index) || index < 0 || index > 65_535) return 'each entry must start with a node index 0-65535 and =';
    if (seen.has(index)) return `index ${index} appears twice`;
    seen.add(index);
    if (!/^https?:\/\/[^\s,]+$/.test(location)) return `the URL for index ${index} must be an absolute http(s) URL`;
  }
  return undefined;
}

/** One-line descriptions of the top-level sections, in the order the docs list them. */
export const SECTIONS: Readonly<Record<string, string>> = {
  general: 'Where the node keeps its data.',
  store: 'Durable data (users, clients, keys, audit log): an embedded SQLite file per node, or one PostgreSQL database shared by all.',
  users: 'Where users live: the durable store, or an existing LDAP directory.',
  ldap: 'The LDAP directory (OpenLDAP, Active Directory) users sign in against when users.backend is ldap.',
  node: 'Identity of this node in the cluster.',
  http: 'The HTTP listener that serves browsers, relying parties and service providers.',
  log: 'Structured JSON logs on stdout.',
  auth: 'Password hashing, brute-force lockout and the first administrator.',
  session: 'User SSO sessions and the cluster-wide session policy.',
  admin: 'The admin API (logged-on list, remote kill).',
  oidc: 'Lifetimes of OpenID Connect / OAuth 2 artefacts.',
  saml: 'The SAML 2.0 identity provider: entity ID, artifact resolution endpoints, message lifetimes and limits.',
  cluster: 'Membership and the authenticated TLS back channel between nodes (roles engine and console).',
  state: 'Runtime state services: which backend holds each one, the size limits of the local backend, the Redis connection.',
};

const BACKENDS = ['auto', 'local', 'peer', 'redis'] as const;
const DAY = 86_400;
const YEAR = 365 * DAY;
// Upper bound of the local caps: far above what one process can hold, low enough to catch a misplaced digit.
const MAX_LOCAL_ENTRIES = 100_000_000;

type StateConfig = CohortConfig['state'];
function backend<S extends keyof StateConfig['backend'] & string>(service: S, holds: string) {
  return oneOf({
    path: `state.backend.${service}` as `state.backend.${S}` & ConfigPath, values: BACKENDS, default: 'auto',
    doc: `Backend holding ${holds}. auto = local when standalone, peer in a cluster; local = in-memory on this node; redis = state.redis.*.`,
  });
}
function localCap<N extends keyof StateConfig['local'] & string>(name: N, holds: string, dflt: number) {
  return int({
    path: `state.local.${name}` as `state.local.${N}` & ConfigPath, default: dflt, min: 1, max: MAX_LOCAL_ENTRIES,
    doc: `Most ${holds} the local backend holds before it evicts entries.`,
  });
}


/** ldap.url: empty, or an ldap:// / ldaps:// URL with a host and nothing after the port. */
function checkLdapUrl(value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be empty or an ldap:// or ldaps:// URL';
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') return 'must use ldap: or ldaps:';
  if (!url.hostname || (url.pathname !== '' && url.pathname !== '/') || url.search || url.username) {
    return 'must be ldap[s]://host[:port] with nothing else';
  }
  return undefined;
}

/** store.postgres.url: empty, or a URL node-postgres understands. Never echoes the value: it holds a password. */
function checkPostgresUrl(value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL like postgres://user:password@host:5432/database';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return 'must start with postgres:// or postgresql://';
  return undefined;
}

/**
 * state.redis.url: a redis:// or rediss:// URL without a password, which goes in the secret state.redis.password
 * so that `cohort config show` and logs can print the URL.
 */
function checkRedisUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL like redis://host:6379/0';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must start with redis:// or rediss://';
  if (url.password !== '') return 'must not contain a password: set state.redis.password instead';
  if (!/^\/?\d*$/.test(url.pathname)) return 'may name only a database number, e.g. redis://host:6379/0';
  return undefined;
}

/** Comma-separated host:port list (IPv6 as [addr]:port); empty allowed. */
function checkHostList(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  for (const item of value.split(',')) {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(item.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) return `'${item.trim()}' is not host:port`;
  }
  return undefined;
}

/** Comma-separated node indexes (0-65535); empty = every node. */
function checkIndexList(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  for (const item of value.split(',')) {
    const n = Number(item.trim());
    if (!/^\d+$/.test(item.trim()) || n > 65_535) return `'${item.trim()}' is not a node index (0-65535)`;
  }
  return undefined;
}

function preferred<S extends keyof StateConfig['preferredNodes'] & string>(service: S) {
  return str({
    path: `state.preferredNodes.${service}` as `state.preferredNodes.${S}` & ConfigPath, default: '', maxLength: 4096,
    check: checkIndexList, rule: 'comma-separated node indexes',
    doc: `Nodes that share ${service} state (peer backend): empty = every node; a list = state servers or a subcluster.`,
  });
}

export const SCHEMA = defineSchema([
  str({
    path: 'dataDir', default: './cohort-data', minLength: 1, maxLength: 4096,
    doc: 'Directory of the embedded stores and the default cohort.json; relative to the working directory.',
  }),

  oneOf({
    path: 'store.backend', values: ['sqlite', 'postgres'], default: 'sqlite',
    doc: 'sqlite = a file in dataDir, nothing to install (each node its own copy); postgres = one database every node shares.',
  }),
  str({
    path: 'store.postgres.url', default: '', maxLength: 4096, secret: true, check: checkPostgresUrl,
    rule: 'empty or a postgres:// URL',
    doc: 'PostgreSQL connection URL, postgres://user:password@host:5432/db (add ?sslmode=verify-full across networks).',
  }),
  int({
    path: 'store.postgres.poolSize', default: 10, min: 1, max: 1_000,
    doc: 'Most connections one node opens; nodes x poolSize must stay below the server\'s max_connections (100 by default).',
  }),
  int({
    path: 'store.postgres.connectTimeoutMs', default: 5_000, min: 100, max: 120_000,
    doc: 'Longest wait for a connection, in ms; bounds how long a request hangs while the database is unreachable.',
  }),
  int({
    path: 'store.postgres.statementTimeoutMs', default: 5_000, min: 100, max: 600_000,
    doc: 'Longest one query may run, in ms (server statement_timeout); Cohort\'s queries take milliseconds.',
  }),
  bool({
    path: 'store.migrateOnStart', default: true,
    doc: 'Apply pending PostgreSQL schema migrations at start (once, under an advisory lock); off = run `cohort db migrate` first.',
  }),

  oneOf({
    path: 'users.backend', values: ['store', 'ldap'], default: 'store',
    doc: 'store = users in the durable store, managed with `cohort users`; ldap = users of an existing directory (ldap.*), read-only.',
  }),

  str({
    path: 'ldap.url', default: '', maxLength: 2048, check: checkLdapUrl, rule: 'empty or an ldap:// or ldaps:// URL',
    doc: 'Directory server, ldap://host:389 or ldaps://host:636 (use ldaps:// across networks: passwords cross it).',
  }),
  str({
    path: 'ldap.bindDn', default: '', maxLength: 1024,
    doc: 'DN of the service account that searches for users and groups (read access suffices); empty = anonymous.',
  }),
  str({
    path: 'ldap.bindPassword', default: '', maxLength: 1024, secret: true,
    doc: 'Password of the service account (ldap.bindDn).',
  }),
  str({
    path: 'ldap.searchBase', default: '', maxLength: 1024,
    doc: 'DN under which users are searched (whole subtree), e.g. ou=people,dc=example,dc=org.',
  }),
  str({
    path: 'ldap.userFilter', default: '(uid={username})', minLength: 1, maxLength: 1024,
    check: (v) => (v.includes('{username}') ? undefined : 'must contain {username}'), rule: 'contains {username}',
    doc: 'Filter finding one user; {username} is the escaped sign-in name. AD: (&(objectClass=user)(sAMAccountName={username})).',
  }),
  str({
    path: 'ldap.idAttribute', default: 'entryUUID', minLength: 1, maxLength: 128,
    doc: 'Attribute with a stable, unique id used as the OIDC sub: it must never change or be reused (AD: objectGUID).',
  }),
  str({
    path: 'ldap.usernameAttribute', default: 'uid', minLength: 1, maxLength: 128,
    doc: 'Attribute holding the username (preferred_username claim); AD: sAMAccountName.',
  }),
  str({
    path: 'ldap.emailAttribute', default: 'mail', minLength: 1, maxLength: 128,
    doc: 'Attribute holding the email address (email claim).',
  }),
  str({
    path: 'ldap.displayNameAttribute', default: 'cn', minLength: 1, maxLength: 128,
    doc: 'Attribute holding the display name (name claim); AD: displayName.',
  }),
  str({
    path: 'ldap.groupBase', default: '', maxLength: 1024,
    doc: 'DN under which groups are searched with ldap.groupFilter; empty = read the user\'s memberOf attribute instead.',
  }),
  str({
    path: 'ldap.groupFilter', default: '(member={dn})', minLength: 1, maxLength: 1024,
    doc: 'Filter finding a user\'s groups under ldap.groupBase; {dn} is the user\'s DN, {username} their name (both escaped).',
  }),
  str({
    path: 'ldap.adminGroup', default: '', maxLength: 256,
    doc: 'CN of the directory group whose members get the admin role; empty = no directory user is an admin.',
  }),
  int({
    path: 'ldap.maxConnections', default: 10, min: 1, max: 1_000,
    doc: 'Most concurrent LDAP operations (one connection each) per node; further sign-ins wait up to ldap.timeoutMs.',
  }),
  int({
    path: 'ldap.timeoutMs', default: 3_000, min: 50, max: 120_000,
    doc: 'Longest wait for one LDAP operation or connection, in ms; bounds how long sign-in hangs on a stalled directory.',
  }),

  str({
    path: 'node.name', default: { describe: 'this machine\'s host name', compute: () => hostname() },
    minLength: 1, maxLength: 255,
    doc: 'Name of this node in logs, /status/v2 and cluster membership; the host name is unique in most setups.',
  }),
  int({
    path: 'node.index', default: 0, min: 0, max: 65_535,
    doc: 'Unique number of this node in the cluster; routed IDs (sessions, artifacts) carry it. 0 suits one node.',
  }),
  oneOf({
    path: 'node.role', values: ['standalone', 'engine', 'console'], default: 'standalone',
    doc: 'standalone = one node with local state; engine = serves protocol traffic; console = administers the cluster.',
  }),
  oneOf({
    path: 'node.configSource', values: ['store', 'console'], default: 'store',
    doc: 'Where clients, keys and policies come from: store = this node\'s durable store, read at start; console = the latest version the console published.',
  }),

  str({
    path: 'http.host', default: '127.0.0.1', minLength: 1, maxLength: 255,
    doc: 'Address to listen on. Loopback by default so a fresh install is not exposed; use 0.0.0.0 behind a proxy.',
  }),
  int({
    path: 'http.port', default: 9000, min: 0, max: 65_535,
    doc: 'TCP port to listen on; 0 picks a free port (for tests).',
  }),
  str({
    path: 'http.issuer', default: '', maxLength: 2048, check: checkIssuer,
    rule: 'empty or an http(s) URL without trailing /',
    doc: 'Public base URL (OIDC issuer, SAML entity base); empty = http://host:port. Set it when behind a proxy.',
  }),
  bool({
    path: 'http.trustProxy', default: false,
    doc: 'Honour X-Forwarded-Proto/Host/For from a TLS-terminating proxy (required for an https issuer); off because clients could forge them.',
  }),
  int({
    path: 'http.maxBodyBytes', default: 65_536, min: 1_024, max: 16_777_216,
    doc: 'Largest request body accepted, in bytes; 64 KiB fits signed SAML messages and bounds memory per request.',
  }),

  oneOf({
    path: 'log.level', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info',
    doc: 'Lowest level written; info logs sign-ins and lifecycle events without per-request noise.',
  }),

  int({
    path: 'auth.scrypt.cost', default: 32_768, min: 1_024, max: 1_048_576, powerOfTwo: true,
    doc: 'scrypt N for new password hashes; 2^15 takes ~60 ms and 32 MiB per sign-in. OWASP\'s 2^17 is stronger, 4x slower.',
  }),
  int({
    path: 'auth.scrypt.blockSize', default: 8, min: 1, max: 64,
    doc: 'scrypt r (block size); 8 is the value scrypt was tuned for.',
  }),
  int({
    path: 'auth.scrypt.parallelization', default: 1, min: 1, max: 16,
    doc: 'scrypt p; 1 keeps one sign-in on one core so concurrent sign-ins do not starve each other.',
  }),
  int({
    path: 'auth.scrypt.keyLength', default: 32, min: 16, max: 128,
    doc: 'Length of the derived key in bytes; 32 = 256 bits.',
  }),
  int({
    path: 'auth.scrypt.maxMemoryMb', default: 64, min: 16, max: 4_096,
    doc: 'Memory one hash may use, in MiB (crypto.scrypt maxmem); must hold 128 * blockSize * (cost + parallelization + 2) bytes.',
  }),
  int({
    path: 'auth.lockout.maxFailuresPerUser', default: 5, min: 1, max: 10_000,
    doc: 'Failed sign-ins of one user within the window before that user is locked until the window passes.',
  }),
  int({
    path: 'auth.lockout.maxFailuresPerSource', default: 20, min: 1, max: 100_000,
    doc: 'Failed sign-ins from one source address within the window before it is blocked; higher, as NAT shares addresses.',
  }),
  int({
    path: 'auth.lockout.windowSeconds', default: 900, min: 1, max: 7 * DAY,
    doc: 'Window in which failures are counted, in seconds (15 min).',
  }),
  str({
    path: 'auth.initialAdmin.username', default: 'admin', minLength: 1, maxLength: 64,
    doc: 'User name of the administrator created on first start.',
  }),

  int({
    path: 'session.ttlSeconds', default: 36_000, min: 60, max: YEAR,
    doc: 'Longest life of an SSO session, in seconds; 10 h like Keycloak\'s SSO session max: one working day.',
  }),
  int({
    path: 'session.maxPerUser', default: 0, min: 0, max: 10_000,
    doc: 'Concurrent SSO sessions one user may hold across the cluster; 0 = unlimited (the usual default).',
  }),
  oneOf({
    path: 'session.limitAction', values: ['refuse', 'delete-oldest'], default: 'refuse',
    doc: 'At the limit: refuse the new sign-in with a message, or end the oldest session(s) (with back-channel logout).',
  }),
  bool({
    path: 'session.allowLogoutAll', default: false,
    doc: 'Offer "sign out of all my sessions" on the logout page to a user signed in in more than one browser.',
  }),
  str({
    path: 'admin.apiToken', default: '', maxLength: 512, secret: true,
    check: (v) => (v === '' || v.length >= 32 ? undefined : 'must be empty or at least 32 characters'),
    rule: 'empty or 32+ characters',
    doc: 'Bearer token for the admin API (compared in constant time); empty = admin accounts only (HTTP Basic).',
  }),

  bool({
    path: 'oidc.allowPrivateNetworkRequests', default: false,
    doc: 'Let outbound calls (back-channel logout, client JWKS) reach loopback and private addresses; on for intranet relying parties, off to block SSRF.',
  }),
  int({
    path: 'oidc.ttl.accessTokenSeconds', default: 3_600, min: 1, max: DAY,
    doc: 'Access token lifetime, in seconds (1 h).',
  }),
  int({
    path: 'oidc.ttl.authorizationCodeSeconds', default: 60, min: 1, max: 600,
    doc: 'Authorization code lifetime, in seconds; short because it is redeemed at once (RFC 6749 caps it at 10 min).',
  }),
  int({
    path: 'oidc.ttl.idTokenSeconds', default: 3_600, min: 1, max: DAY,
    doc: 'ID token lifetime, in seconds (1 h).',
  }),
  int({
    path: 'oidc.ttl.refreshTokenSeconds', default: 1_209_600, min: 60, max: YEAR,
    doc: 'Refresh token lifetime, in seconds (14 days).',
  }),
  int({
    path: 'oidc.ttl.interactionSeconds', default: 600, min: 60, max: DAY,
    doc: 'Time a user has to complete a login or consent page, in seconds (10 min).',
  }),
  int({
    path: 'oidc.ttl.grantSeconds', default: 1_209_600, min: 60, max: YEAR,
    doc: 'Lifetime of a grant (the consent behind refresh tokens), in seconds; as long as a refresh token.',
  }),
  int({
    path: 'oidc.ttl.clientCredentialsSeconds', default: 600, min: 1, max: DAY,
    doc: 'Lifetime of client_credentials access tokens, in seconds (10 min); machines ask again cheaply.',
  }),

  bool({
    path: 'saml.enabled', default: true,
    doc: 'Serve the SAML 2.0 identity provider (metadata, SSO, SLO, artifact resolution) under /saml/.',
  }),
  str({
    path: 'saml.entityId', default: '', maxLength: 1024,
    check: (v) => (/[\s<>"]/.test(v) ? 'must not contain spaces, quotes or angle brackets' : undefined),
    rule: 'no spaces, quotes or <>',
    doc: 'The IdP entityID; empty = <issuer>/saml/metadata. Service providers pin it: change it only with them.',
  }),
  str({
    path: 'saml.artifactEndpoints', default: '', maxLength: 8192,
    check: (v) => artifactEndpointsProblem(v),
    rule: 'empty or index=https://host/saml/artifact, ...',
    doc: 'Per-node ArtifactResolutionService endpoints as "nodeIndex=url,..." (each node\'s direct URL); empty = one endpoint, index 0, at the issuer.',
  }),
  int({
    path: 'saml.artifactLifetimeSeconds', default: 30, min: 1, max: 600,
    doc: 'How long a SAML artifact can be resolved, in seconds; the SP resolves it at once, so keep it short.',
  }),
  int({
    path: 'saml.assertionLifetimeSeconds', default: 300, min: 30, max: 3_600,
    doc: 'Validity window of an issued assertion (NotOnOrAfter), in seconds.',
  }),
  int({
    path: 'saml.clockSkewSeconds', default: 90, min: 0, max: 900,
    doc: 'Clock difference tolerated between Cohort and service providers when checking IssueInstant, in seconds.',
  }),
  int({
    path: 'saml.requestMaxAgeSeconds', default: 300, min: 30, max: 3_600,
    doc: 'Oldest IssueInstant accepted on an AuthnRequest, LogoutRequest or ArtifactResolve; its ID is remembered for replay checks this long.',
  }),
  int({
    path: 'saml.maxMessageBytes', default: 65_536, min: 4_096, max: 1_048_576,
    doc: 'Largest decoded SAML message accepted (after inflating a Redirect-binding message), in bytes.',
  }),
  bool({
    path: 'saml.allowPrivateNetworkRequests', default: true,
    doc: 'Let SOAP back-channel logout reach loopback and private addresses; service providers usually sit on the intranet.',
  }),

  str({
    path: 'cluster.name', default: 'cohort', minLength: 1, maxLength: 64,
    check: (v) => (/^[A-Za-z0-9._-]+$/.test(v) ? undefined : 'may contain only letters, digits, . _ -'),
    rule: 'letters, digits, . _ -',
    doc: 'Name of the cluster; part of the back-channel key, so two clusters sharing a secret still cannot mix.',
  }),
  str({
    path: 'cluster.bindHost', default: '127.0.0.1', minLength: 1, maxLength: 255,
    doc: 'Address the back channel listens on; loopback by default, set a private interface for a real cluster.',
  }),
  int({
    path: 'cluster.port', default: 7901, min: 0, max: 65_535,
    doc: 'Back-channel TCP port (TLS); 0 picks a free port (tests).',
  }),
  str({
    path: 'cluster.advertiseHost', default: '', maxLength: 255,
    doc: 'Address other nodes dial to reach this one; empty = cluster.bindHost.',
  }),
  str({
    path: 'cluster.initialHosts', default: '', maxLength: 8192, check: checkHostList, rule: 'comma-separated host:port',
    doc: 'Back-channel addresses of the configured members (this node may be listed); quorum counts these plus self.',
  }),
  str({
    path: 'cluster.secret', default: '', maxLength: 1024, secret: true,
    doc: 'Cluster secret (base64url, 32+ bytes) that keys the TLS-PSK back channel; empty = read <dataDir>/cluster-secret.',
  }),
  int({
    path: 'cluster.heartbeatIntervalMs', default: 500, min: 50, max: 10_000,
    doc: 'How often a node tells every member it is alive, in ms; lower detects failure sooner at more traffic.',
  }),
  int({
    path: 'cluster.failureTimeoutMs', default: 2_000, min: 200, max: 60_000,
    doc: 'A member not heard from for this long is dead, in ms; the default keeps detection under 3 s.',
  }),
  int({
    path: 'cluster.rpcTimeoutMs', default: 2_000, min: 50, max: 60_000,
    doc: 'Deadline of every back-channel call, in ms; bounds how long a request waits on a slow peer.',
  }),
  int({
    path: 'cluster.bulkTimeoutMs', default: 10_000, min: 100, max: 600_000,
    doc: 'Longest a starting or rejoining node spends copying state from peers before it reports lbstatus OK, in ms.',
  }),
  bool({
    path: 'cluster.majorityOnly', default: false,
    doc: 'Synchronous cluster-wide reads wait for a majority of members instead of all: faster, still consistent.',
  }),
  int({
    path: 'cluster.failoverPeers', default: 1, min: 0, max: 16,
    doc: 'How many peers hold a copy of each record besides its owner; 1 survives any single node failure.',
  }),
  int({
    path: 'cluster.maxFrameBytes', default: 16_777_216, min: 4_096, max: 268_435_456,
    doc: 'Largest back-channel message, in bytes; bounds memory per connection (bulk copies are chunked below it).',
  }),
  preferred('sessions'),
  preferred('interRequest'),
  preferred('tokens'),
  preferred('replay'),
  preferred('artifacts'),
  preferred('registry'),
  preferred('revocations'),
  preferred('loginFailures'),
  oneOf({
    path: 'state.backend.sessions', values: ['auto', 'local', 'peer', 'redis', 'postgres'], default: 'auto',
    doc: 'Backend holding user SSO sessions. auto = local when standalone, peer in a cluster; local = in-memory; redis = state.redis.*; postgres = the store\'s database (needs store.backend postgres), so sessions survive a restart of every node.',
  }),
  oneOf({
    path: 'state.backend.interRequest', values: ['auto', 'local', 'peer', 'cookie', 'redis'], default: 'auto',
    doc: 'Backend of login-transaction state. cookie = encrypted in the browser (no shared state); local needs a sticky balancer.',
  }),
  bool({
    path: 'state.revocationsReadLocalOnly', default: true,
    doc: 'Revocation checks read the local copy (every node holds the whole list): fast; false also asks the peers.',
  }),
  int({
    path: 'state.cookie.rotationSeconds', default: 3_600, min: 5, max: 30 * DAY,
    doc: 'How often the oldest live member rotates the cookie-mode encryption key, in seconds (under 60: for tests only).',
  }),
  int({
    path: 'state.cookie.keysKept', default: 3, min: 1, max: 20,
    doc: 'Older cookie-mode keys kept for decryption, so transactions started before a rotation still finish.',
  }),
  str({
    path: 'state.cookie.staticKey', default: '', maxLength: 128, secret: true,
    doc: 'Fixed cookie-mode key (base64url, 32 bytes) instead of rotated ones; the same on every node.',
  }),
  backend('tokens', 'OIDC codes, tokens, grants and interactions'),
  backend('replay', 'seen assertion IDs, jti and DPoP proofs'),
  backend('artifacts', 'SAML messages behind an artifact'),
  backend('registry', 'which RPs/SPs each session was issued to (single logout)'),
  backend('revocations', 'revoked session ids'),
  backend('loginFailures', 'failed sign-in counters'),
  str({
    path: 'state.redis.url', default: 'redis://127.0.0.1:6379', minLength: 1, maxLength: 4096,
    check: checkRedisUrl, rule: 'a redis:// or rediss:// URL without a password',
    doc: 'Redis/Valkey for the redis backend: redis[s]://[user@]host:port[/db]; the seed node in cluster mode.',
  }),
  str({
    path: 'state.redis.password', default: '', maxLength: 1024, secret: true,
    doc: 'Password Cohort sends to Redis (AUTH, with the URL\'s user name if any); empty = no AUTH.',
  }),
  str({
    path: 'state.redis.keyPrefix', default: 'cohort:', maxLength: 64,
    check: (v) => (/[{}]/.test(v) ? 'must not contain { or } (Redis Cluster hash tags)' : undefined), rule: 'no { or }',
    doc: 'Prefix of every key and channel, so several Cohort clusters (or other applications) can share one Redis.',
  }),
  str({
    path: 'state.redis.sentinels', default: '', maxLength: 8192, check: checkHostList, rule: 'comma-separated host:port',
    doc: 'Sentinels (host:port list) that name the current primary; empty = connect to state.redis.url directly.',
  }),
  str({
    path: 'state.redis.sentinelName', default: '', maxLength: 255,
    doc: 'Name of the primary the Sentinels monitor (their `sentinel monitor <name>`); required with sentinels.',
  }),
  bool({
    path: 'state.redis.cluster', default: false,
    doc: 'Redis Cluster: discover the nodes from state.redis.url and route each key to its slot.',
  }),
  int({
    path: 'state.redis.commandTimeoutMs', default: 1_000, min: 10, max: 60_000,
    doc: 'Longest wait for one Redis call, in ms; while Redis is down calls fail at once, a hung server costs this much.',
  }),
  localCap('maxSessions', 'sessions', 100_000),
  localCap('maxInterRequests', 'login transactions', 50_000),
  localCap('maxTokens', 'OIDC codes, tokens and grants', 200_000),
  localCap('maxReplayIds', 'replay-check IDs', 100_000),
  localCap('maxArtifacts', 'SAML artifacts', 10_000),
  localCap('maxRegistryEntries', 'single-logout registry entries', 100_000),
  localCap('maxRevocations', 'revoked session ids', 50_000),
  localCap('maxFailureKeys', 'failure counters (users and sources)', 100_000),
]);

const MIB = 1_048_576;

/** Bytes one scrypt hash allocates, as OpenSSL counts them: 128 * r * (N + p + 2). */
export function scryptMemoryBytes(s: CohortConfig['auth']['scrypt']): number {
  return 128 * s.blockSize * (s.cost + s.parallelization + 2);
}

/** A rule over several knobs, checked after all sources are merged; `path` is the key the message blames. */
export interface Constraint {
  path: ConfigPath;
  check(config: CohortConfig): string | undefined;
}

export const CONSTRAINTS: readonly Constraint[] = [
  {
    path: 'store.postgres.url',
    check: (c) => (c.store.backend === 'postgres' && c.store.postgres.url === ''
      ? "must be set when store.backend is 'postgres'" : undefined),
  },
  {
    // The sessions table is created by the store's migrations, in the store's database.
    path: 'state.backend.sessions',
    check: (c) => (c.state.backend.sessions === 'postgres' && c.store.backend !== 'postgres'
      ? "is 'postgres', which needs store.backend 'postgres' (sessions live in the store's database)" : undefined),
  },
  ...(['ldap.url', 'ldap.searchBase'] as const).map((path): Constraint => ({
    path,
    check: (c) => (c.users.backend === 'ldap' && (path === 'ldap.url' ? c.ldap.url : c.ldap.searchBase) === ''
      ? "must be set when users.backend is 'ldap'" : undefined),
  })),
  {
    // Nodes speak plain HTTP; an https issuer means a proxy terminates TLS, and Secure cookies can only be set when
    // the node trusts that proxy's X-Forwarded-Proto.
    path: 'http.trustProxy',
    check: (c) => (c.http.issuer.startsWith('https:') && !c.http.trustProxy
      ? 'must be true when http.issuer is https: (a TLS-terminating proxy sits in front of this node)' : undefined),
  },
  ...(['sessions', 'interRequest', 'tokens', 'replay', 'artifacts', 'registry', 'revocations', 'loginFailures'] as const)
    .map((service): Constraint => ({
      // The peer backend replicates over the back channel, which only a cluster role starts.
      path: `state.backend.${service}`,
      check: (c) => (c.node.role === 'standalone' && c.state.backend[service] === 'peer'
        ? "is 'peer', which needs node.role engine or console" : undefined),
    })),
  {
    // Published versions come from the console over the back channel, which only a cluster role starts.
    path: 'node.configSource',
    check: (c) => (c.node.configSource === 'console' && c.node.role === 'standalone'
      ? "is 'console', which needs node.role engine or console" : undefined),
  },
  {
    path: 'state.redis.sentinelName',
    check: (c) => (c.state.redis.sentinels.trim() !== '' && c.state.redis.sentinelName === ''
      ? 'must be set when state.redis.sentinels is' : undefined),
  },
  {
    // ioredis speaks to a Cluster or through Sentinels, not both at once.
    path: 'state.redis.cluster',
    check: (c) => (c.state.redis.cluster && c.state.redis.sentinels.trim() !== ''
      ? 'cannot be combined with state.redis.sentinels' : undefined),
  },
  {
    // Node refuses a hash whose memory exceeds maxmem, so a mismatch would surface only at the first sign-in.
    path: 'auth.scrypt.maxMemoryMb',
    check: ({ auth: { scrypt } }) => {
      const need = scryptMemoryBytes(scrypt);
      return need > scrypt.maxMemoryMb * MIB
        ? `must be at least ${Math.ceil(need / MIB)} to hash with cost ${scrypt.cost}, blockSize ${scrypt.blockSize}`
          + ` and parallelization ${scrypt.parallelization}, got ${scrypt.maxMemoryMb}`
        : undefined;
    },
  },
];

/** Keeps the literal paths and types of the entries so the checks below can compare them with CohortConfig. */
function defineSchema<const K extends readonly Knob[]>(knobs: K): K {
  return knobs;
}

/** The knob at a dotted path, or undefined. */
export function knobAt(path: string): Knob | undefined {
  return SCHEMA.find((k) => k.path === path);
}

/** The default value of a knob, computing machine-dependent ones. */
export function defaultOf(knob: Knob): Leaf {
  const d = knob.default;
  return typeof d === 'object' ? d.compute() : d;
}

/** Sets a dotted path in a nested plain object, creating sections on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Reads a dotted path of a nested object (undefined when absent). */
export function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Section of a path for docs: its first segment, or 'general' for top-level knobs like dataDir. */
export function sectionOf(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? 'general' : path.slice(0, dot);
}

/** A fresh, mutable configuration holding every default. */
export function buildDefaults(): CohortConfig {
  const out: Record<string, unknown> = {};
  for (const knob of SCHEMA) setPath(out, knob.path, defaultOf(knob));
  return out as unknown as CohortConfig;
}

// ---- Compile-time agreement between SCHEMA and CohortConfig (types only, nothing runs). ----
// A CohortConfig leaf without a knob makes `everyLeafHasAKnob` fail to compile, naming the missing path.
// A knob whose type or enum values do not fit its field makes `everyKnobFitsItsField` fail, naming the path.
type Entry = (typeof SCHEMA)[number];
type MissingKnobs = Exclude<ConfigPath, Entry['path']>;
type KindOf<V> = V extends boolean ? 'boolean' : V extends number ? 'integer' : V extends string ? 'string' | 'enum' : never;
type Misfit<E> = E extends { path: infer P extends ConfigPath; type: infer T }
  ? T extends KindOf<ValueAt<CohortConfig, P>>
    ? E extends { values: readonly (infer V)[] } ? ([V] extends [ValueAt<CohortConfig, P>] ? never : P) : never
    : P
  : never;
const everyLeafHasAKnob: [MissingKnobs] extends [never] ? true : MissingKnobs = true;
const everyKnobFitsItsField: [Misfit<Entry>] extends [never] ? true : Misfit<Entry> = true;
