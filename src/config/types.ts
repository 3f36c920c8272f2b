// The shape of a loaded configuration. src/config/schema.ts defines every knob (type, default, one-line doc, env
// variable) and must cover exactly these fields; docs/configuration.md is generated from the schema.

export type NodeRole = 'standalone' | 'engine' | 'console';
export type StateBackend = 'auto' | 'local' | 'peer' | 'redis';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface CohortConfig {
  dataDir: string;
  store: {
    /** Where durable data lives: the embedded SQLite file of each node, or one shared PostgreSQL database. */
    backend: 'sqlite' | 'postgres';
    postgres: {
      /** postgres://user:password@host:port/database; a secret. */
      url: string;
      poolSize: number;
      connectTimeoutMs: number;
      statementTimeoutMs: number;
    };
    /** Apply pending PostgreSQL schema migrations at start (SQLite always migrates its own file). */
    migrateOnStart: boolean;
  };
  users: {
    /** Where users live: the durable store (managed with `cohort users`), or an existing LDAP directory (ldap.*). */
    backend: 'store' | 'ldap';
  };
  /** The LDAP directory users sign in against when users.backend is ldap. */
  ldap: {
    url: string;
    bindDn: string;
    /** A secret. */
    bindPassword: string;
    searchBase: string;
    userFilter: string;
    idAttribute: string;
    usernameAttribute: string;
    emailAttribute: string;
    displayNameAttribute: string;
    /** Empty = groups come from the user's memberOf attribute. */
    groupBase: string;
    groupFilter: string;
    /** Members of this group (by CN) get the admin role; empty = none. */
    adminGroup: string;
    maxConnections: number;
    timeoutMs: number;
  };
  node: {
    name: string;
    index: number;
    role: NodeRole;
    /** Runtime configuration: the node's own store ('store'), or the console's latest published version ('console'). */
    configSource: 'store' | 'console';
  };
  http: {
    host: string;
    port: number;
    /** Public base URL; empty = http://host:port. */
    issuer: string;
    /** Honour X-Forwarded-Proto/For from a TLS-terminating proxy. */
    trustProxy: boolean;
    maxBodyBytes: number;
  };
  log: {
    level: LogLevel;
  };
  auth: {
    scrypt: { cost: number; blockSize: number; parallelization: number; keyLength: number; maxMemoryMb: number };
    lockout: {
      maxFailuresPerUser: number;
      maxFailuresPerSource: number;
      windowSeconds: number;
    };
    initialAdmin: { username: string };
  };
  session: {
    ttlSeconds: number;
    /** Concurrent sessions one user may hold cluster-wide; 0 = unlimited. */
    maxPerUser: number;
    limitAction: 'refuse' | 'delete-oldest';
    /** Offer "sign out of all my sessions" on the logout page to a user with more than one. */
    allowLogoutAll: boolean;
  };
  admin: {
    /** Bearer token for the admin API; empty = only admin accounts (HTTP Basic). */
    apiToken: string;
  };
  saml: {
    enabled: boolean;
    /** Empty = <issuer>/saml/metadata. */
    entityId: string;
    /** "nodeIndex=url,..."; see parseArtifactEndpoints(). */
    artifactEndpoints: string;
    artifactLifetimeSeconds: number;
    assertionLifetimeSeconds: number;
    clockSkewSeconds: number;
    requestMaxAgeSeconds: number;
    maxMessageBytes: number;
    allowPrivateNetworkRequests: boolean;
  };
  oidc: {
    allowPrivateNetworkRequests: boolean;
    ttl: {
      accessTokenSeconds: number;
      authorizationCodeSeconds: number;
      idTokenSeconds: number;
      refreshTokenSeconds: number;
      interactionSeconds: number;
      grantSeconds: number;
      clientCredentialsSeconds: number;
    };
  };
  cluster: {
    name: string;
    bindHost: string;
    port: number;
    advertiseHost: string;
    /** Comma-separated host:port list of the configured members' back channels. */
    initialHosts: string;
    secret: string;
    heartbeatIntervalMs: number;
    failureTimeoutMs: number;
    rpcTimeoutMs: number;
    bulkTimeoutMs: number;
    majorityOnly: boolean;
    failoverPeers: number;
    maxFrameBytes: number;
  };
  state: {
    /** Per service: comma-separated node indexes to share with; empty = every node. */
    preferredNodes: Record<'sessions' | 'interRequest' | 'tokens' | 'replay' | 'artifacts' | 'registry' | 'revocations'
      | 'loginFailures', string>;
    backend: Record<'tokens' | 'replay' | 'artifacts' | 'registry' | 'revocations' | 'loginFailures', StateBackend>
      & { sessions: StateBackend | 'postgres'; interRequest: StateBackend | 'cookie' };
    /** Revocation checks read this node's copy of the list (every node has all of it) instead of asking peers. */
    revocationsReadLocalOnly: boolean;
    cookie: {
      rotationSeconds: number;
      keysKept: number;
      staticKey: string;
    };
    /** Connection of the redis backend (services whose state.backend.* is redis). */
    redis: {
      /** redis:// or rediss:// URL, without a password. */
      url: string;
      /** AUTH password; a secret. */
      password: string;
      keyPrefix: string;
      /** Comma-separated host:port list of Sentinels; empty = no Sentinel. */
      sentinels: string;
      sentinelName: string;
      cluster: boolean;
      commandTimeoutMs: number;
    };
    local: {
      maxSessions: number;
      maxInterRequests: number;
      maxTokens: number;
      maxReplayIds: number;
      maxArtifacts: number;
      maxRegistryEntries: number;
      maxRevocations: number;
      maxFailureKeys: number;
    };
  };
}
