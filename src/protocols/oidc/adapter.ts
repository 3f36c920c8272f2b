// oidc-provider's storage contract mapped onto Cohort's state services and durable store.
// Every model oidc-provider persists goes through here, so no protocol state lives anywhere else:
//   Session -> sessions, Interaction -> interRequest, ReplayDetection -> replay,
//   Client -> durable store (read-only: clients are administered with the CLI / console),
//   everything else (codes, tokens, grants, PAR, device codes...) -> tokens.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { ClientStore } from '../../store/types.js';
import { StateUnavailableError, type JsonObject, type StateServices } from '../../state/types.js';
import { clientMetadata } from './client-metadata.js';
import { currentRequest } from '../../http/request-context.js';

/** oidc-provider hands TTLs in seconds; a model without one (rare) still must not live forever. */
const FALLBACK_TTL_SECONDS = 14 * 24 * 3600;
/**
 * ReplayDetection.unique() does find() then save(); making find() the atomic check-and-set closes the race between
 * two nodes or two requests. find() does not know the proof's expiry, so remember it for this bound, which exceeds
 * any jti lifetime oidc-provider accepts (client assertions and DPoP proofs are minutes at most).
 */
const REPLAY_REMEMBER_MS = 24 * 3600 * 1000;

function expiresAt(now: number, expiresIn: number | undefined): number {
  return now + (expiresIn ?? FALLBACK_TTL_SECONDS) * 1000;
}

function asJson(payload: AdapterPayload): JsonObject {
  // oidc-provider payloads are plain JSON already; the cast only satisfies the type checker.
  return payload as unknown as JsonObject;
}

function asPayload(json: JsonObject | undefined): AdapterPayload | undefined {
  return json as unknown as AdapterPayload | undefined;
}

export interface AdapterDeps {
  state: StateServices;
  clients: Pick<ClientStore, 'get'>;
  /** Longest life of a session: a destroyed session's id stays revoked that long. */
  sessionTtlMs: number;
  now?: () => number;
}

class SessionAdapter implements Adapter {
  constructor(private readonly deps: AdapterDeps, private readonly now: () => number) {}
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    // For the logged-on list: where the browser was last seen from, and when. oidc-provider keeps only the fields it
    // knows on its next save, so these are stamped again on every save (which happens on each use of the session).
    const request = currentRequest();
    const seen = request ? { source: request.source, lastSeen: this.now() } : undefined;
    await this.deps.state.sessions.put({
      id,
      uid: String(payload.uid),
      ...(payload.accountId ? { userId: payload.accountId } : {}),
      payload: { ...asJson(payload), ...(seen ? { cohort: seen } : {}) },
      expiresAt: expiresAt(this.now(), expiresIn),
    });
  }
  async find(id: string) {
    if (await this.deps.state.revocations.isRevoked(id)) return undefined;
    return asPayload((await this.deps.state.sessions.get(id))?.payload);
  }
  async findByUid(uid: string) {
    const record = await this.deps.state.sessions.findByUid(uid);
    if (!record || await this.deps.state.revocations.isRevoked(record.id)) return undefined;
    return asPayload(record.payload);
  }
  async findByUserCode() { return undefined; }
  async consume() { /* sessions are never one-time */ }
  async destroy(id: string) {
    // Logout, and the id renewal at sign-in of a browser that was already signed in, end a signed-in session: revoke
    // its id everywhere so no copy can come back. The anonymous session of a first sign-in is simply deleted (a
    // revocation per sign-in would flood the capped list and cost a broadcast each).
    const signedIn = (await this.deps.state.sessions.get(id))?.userId !== undefined;
    await this.deps.state.sessions.delete(id);
    if (signedIn) await this.deps.state.revocations.revoke(id, this.now() + this.deps.sessionTtlMs);
  }
  async revokeByGrantId() { /* sessions are not grant-bound */ }
}

class InteractionAdapter implements Adapter {
  constructor(private readonly deps: AdapterDeps, private readonly now: () => number) {}
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    await this.deps.state.interRequest.put(id, asJson(payload), expiresAt(this.now(), expiresIn));
  }
  async find(id: string) { return asPayload(await this.deps.state.interRequest.get(id)); }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume() { /* interactions are destroyed, not consumed */ }
  async destroy(id: string) { await this.deps.state.interRequest.delete(id); }
  async revokeByGrantId() { /* not grant-bound */ }
}

class ReplayAdapter implements Adapter {
  constructor(private readonly deps: AdapterDeps, private readonly now: () => number) {}
  async find(id: string) {
    const first = await this.deps.state.replay.checkAndSet('oidc', id, this.now() + REPLAY_REMEMBER_MS);
    // A non-empty payload tells oidc-provider "seen before".
    return first ? undefined : ({ jti: id } as AdapterPayload);
  }
  async upsert() { /* recorded atomically by find() */ }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume() { /* n/a */ }
  async destroy() { /* replay records only expire */ }
  async revokeByGrantId() { /* n/a */ }
}

class ClientAdapter implements Adapter {
  constructor(private readonly deps: AdapterDeps) {}
  async find(id: string) {
    const record = await this.deps.clients.get(id);
    return record ? (clientMetadata(record) as AdapterPayload) : undefined;
  }
  async upsert() { throw new errors.InvalidRequest('clients are registered by an administrator'); }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume() { /* n/a */ }
  async destroy() { /* clients are removed by an administrator */ }
  async revokeByGrantId() { /* n/a */ }
}

class TokenAdapter implements Adapter {
  constructor(private readonly model: string, private readonly deps: AdapterDeps, private readonly now: () => number) {}
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    await this.deps.state.tokens.put({
      model: this.model,
      id,
      payload: asJson(payload),
      expiresAt: expiresAt(this.now(), expiresIn),
      ...(payload.grantId ? { grantId: payload.grantId } : {}),
      ...(payload.userCode ? { userCode: String(payload.userCode) } : {}),
      ...(payload.uid ? { uid: String(payload.uid) } : {}),
    });
  }
  async find(id: string) { return asPayload((await this.deps.state.tokens.get(this.model, id))?.payload); }
  async findByUserCode(userCode: string) {
    return asPayload((await this.deps.state.tokens.findByUserCode(this.model, userCode))?.payload);
  }
  async findByUid(uid: string) { return asPayload((await this.deps.state.tokens.findByUid(this.model, uid))?.payload); }
  async consume(id: string) {
    // oidc-provider checks `consumed` before calling consume(); two concurrent redemptions can both pass that check.
    // The state service's consume is the atomic one: whoever loses is treated exactly like a reused code.
    const result = await this.deps.state.tokens.consume(this.model, id);
    if (result === 'consumed') return;
    const record = await this.deps.state.tokens.get(this.model, id);
    if (record?.grantId) await this.deps.state.tokens.revokeByGrantId(record.grantId);
    throw new errors.InvalidGrant(`${this.model === 'AuthorizationCode' ? 'authorization code' : 'grant'} already used`);
  }
  async destroy(id: string) { await this.deps.state.tokens.delete(this.model, id); }
  async revokeByGrantId(grantId: string) { await this.deps.state.tokens.revokeByGrantId(grantId); }
}

/**
 * A state service that cannot answer (owner unreachable, cluster read-only) becomes OAuth's temporarily_unavailable
 * with HTTP 503 and a message a client may show, instead of oidc-provider's generic server_error.
 */
function translatingUnavailable(adapter: Adapter): Adapter {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err;
      const unavailable = new errors.TemporarilyUnavailable(err.message);
      Object.assign(unavailable, { status: 503, statusCode: 503, expose: true });
      throw unavailable;
    }
  };
  return {
    upsert: wrap(adapter.upsert.bind(adapter)),
    find: wrap(adapter.find.bind(adapter)),
    findByUid: wrap(adapter.findByUid.bind(adapter)),
    findByUserCode: wrap(adapter.findByUserCode.bind(adapter)),
    consume: wrap(adapter.consume.bind(adapter)),
    destroy: wrap(adapter.destroy.bind(adapter)),
    revokeByGrantId: wrap(adapter.revokeByGrantId.bind(adapter)),
  };
}

function adapterFor(model: string, deps: AdapterDeps, now: () => number): Adapter {
  switch (model) {
    case 'Session': return new SessionAdapter(deps, now);
    case 'Interaction': return new InteractionAdapter(deps, now);
    case 'ReplayDetection': return new ReplayAdapter(deps, now);
    case 'Client': return new ClientAdapter(deps);
    default: return new TokenAdapter(model, deps, now);
  }
}

/** The `adapter` option of oidc-provider: called once per model name. */
export function createAdapterFactory(deps: AdapterDeps): (model: string) => Adapter {
  const now = deps.now ?? Date.now;
  return (model: string) => translatingUnavailable(adapterFor(model, deps, now));
}
