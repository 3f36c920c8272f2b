// The runtime state services of DESIGN.md, one narrow interface each.
// Every method is async because the peer and redis backends are remote; the local backend resolves at once.
// Times are epoch milliseconds; every record carries an absolute expiry and is gone (never returned) after it.

/** JSON-serialisable payload; backends copy it on write so callers can never mutate stored state in place. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Clock injected so tests can move time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** A user's SSO session (oidc-provider's Session model and the SAML IdP's session share it). */
export interface SessionRecord {
  id: string;
  /** Browser-facing identifier oidc-provider looks sessions up by (the cookie value). */
  uid: string;
  /** Account the session belongs to; absent while nobody has signed in yet. */
  userId?: string;
  payload: JsonObject;
  expiresAt: number;
  /** Node index of the owner (0 when standalone). */
  owner?: number;
}

export interface SessionListOptions {
  userId?: string;
  offset?: number;
  limit?: number;
}

export interface SessionStore {
  /** Creates or overwrites; an overwrite keeps the session's place in creation order. */
  put(record: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  findByUid(uid: string): Promise<SessionRecord | undefined>;
  delete(id: string): Promise<void>;
  /** Live sessions of one user, oldest first by creation. */
  listByUser(userId: string): Promise<SessionRecord[]>;
  /** Live sessions for the logged-on list, stable order (oldest first), paged. */
  list(options?: SessionListOptions): Promise<{ total: number; items: SessionRecord[] }>;
  /** Live sessions in the whole store: with a shared backend (peer, redis) across every node, each counted once. */
  count(): Promise<number>;
}

/** Short-lived login-transaction state (oidc-provider's Interaction model, SAML AuthnRequest context). */
export interface InterRequestStore {
  put(id: string, payload: JsonObject, expiresAt: number): Promise<void>;
  get(id: string): Promise<JsonObject | undefined>;
  delete(id: string): Promise<void>;
}

export interface TokenRecord {
  /** oidc-provider model name, e.g. AuthorizationCode. */
  model: string;
  id: string;
  payload: JsonObject;
  expiresAt: number;
  grantId?: string;
  userCode?: string;
  uid?: string;
}

/** Result of an atomic one-time consume. */
export type ConsumeResult = 'consumed' | 'already_consumed' | 'not_found';

export interface TokenStore {
  put(record: TokenRecord): Promise<void>;
  get(model: string, id: string): Promise<TokenRecord | undefined>;
  findByUserCode(model: string, userCode: string): Promise<TokenRecord | undefined>;
  findByUid(model: string, uid: string): Promise<TokenRecord | undefined>;
  /** Atomically marks the record consumed (payload.consumed = epoch seconds); exactly one caller gets 'consumed'. */
  consume(model: string, id: string): Promise<ConsumeResult>;
  delete(model: string, id: string): Promise<void>;
  /** Deletes every record of every model that carries this grantId. */
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface ReplayCache {
  /** Records `id` until expiresAt; true the first time it is seen, false on every replay. */
  checkAndSet(namespace: string, id: string, expiresAt: number): Promise<boolean>;
}

export interface ArtifactStore {
  put(handle: string, message: string, expiresAt: number): Promise<void>;
  /** Returns and removes the message: an artifact resolves exactly once. */
  take(handle: string): Promise<string | undefined>;
}

/** Where a session was used, for single logout. */
export interface Participant {
  protocol: 'oidc' | 'saml';
  /** client_id or SP entityID */
  clientId: string;
  /** protocol-specific details (sid, SAML NameID and SessionIndex, ...). */
  details?: JsonObject;
}

export interface SessionRegistry {
  /**
   * Adds a participant, deduplicated by protocol + clientId (the latest details win, the first place is kept). The
   * session's entry lives until the latest expiresAt any add gave it: logout must still reach every participant.
   */
  add(sessionId: string, participant: Participant, expiresAt: number): Promise<void>;
  /** Participants in the order first added; [] for an unknown or expired session. */
  list(sessionId: string): Promise<Participant[]>;
  remove(sessionId: string): Promise<void>;
}

export interface RevocationList {
  revoke(sessionId: string, expiresAt: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
  /** Everything live, oldest first: used for the bulk copy a joining node makes. */
  entries(): Promise<Array<{ id: string; expiresAt: number }>>;
}

export interface LoginFailureCounter {
  /** Adds one failure to `key`'s sliding window and returns the count inside the window. */
  record(key: string, windowMs: number): Promise<number>;
  count(key: string, windowMs: number): Promise<number>;
  reset(key: string): Promise<void>;
}

/** The whole set a node runs with; each member may come from a different backend. */
export interface StateServices {
  sessions: SessionStore;
  interRequest: InterRequestStore;
  tokens: TokenStore;
  replay: ReplayCache;
  artifacts: ArtifactStore;
  registry: SessionRegistry;
  revocations: RevocationList;
  loginFailures: LoginFailureCounter;
  close(): Promise<void>;
}

export type StateServiceName = Exclude<keyof StateServices, 'close'>;
export const STATE_SERVICE_NAMES: readonly StateServiceName[] = [
  'sessions', 'interRequest', 'tokens', 'replay', 'artifacts', 'registry', 'revocations', 'loginFailures',
];

/** Raised by a backend that cannot answer (remote unreachable, quorum lost); HTTP layer maps it to 503. */
export class StateUnavailableError extends Error {
  readonly code = 'STATE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateUnavailableError';
  }
}
