// Session records shaped like the ones Cohort really stores: src/protocols/oidc/adapter.ts (SessionAdapter.upsert)
// wraps oidc-provider's Session model (lib/models/session.js: iat, exp, jti, kind, uid, accountId, loginTs,
// authorizations per client with sid and grantId; no amr/acr, which Cohort's login does not set) into a
// SessionRecord, adding `cohort: { source, lastSeen }` (the client address and time of the last use). Ids are routed ids as src/protocols/oidc/routed-ids.ts mints them, user ids UUIDs as the SQLite
// user store makes them, client ids 22 base64url characters as `cohort clients add` generates them.
import { randomBytes, randomUUID } from 'node:crypto';
import { routedId } from '../../src/state/routed-id.js';
import type { SessionRecord } from '../../src/state/types.js';

/** Cohort's default session.ttlSeconds. */
const SESSION_TTL_SECONDS = 36_000;
const CLIENTS = 20;
const USERS = 20_000;

/** A fixed population of clients and users, made before any measurement so it is not counted as session memory. */
export class SessionFactory {
  readonly #clients = Array.from({ length: CLIENTS }, () => randomBytes(16).toString('base64url'));
  readonly #users = Array.from({ length: USERS }, () => randomUUID());
  #n = 0;

  /** A new signed-in session owned by node `owner`, authorised for one client (even n) or two (odd n). */
  next(owner: number): SessionRecord {
    const n = this.#n++;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const id = routedId(owner);
    const uid = routedId(owner);
    const accountId = this.#users[n % USERS]!;
    const authorizations: Record<string, { sid: string; grantId: string; persistsLogout?: boolean }> = {};
    const clientCount = 1 + (n % 2);
    for (let c = 0; c < clientCount; c++) {
      const clientId = this.#clients[(n + c * 7) % CLIENTS]!;
      authorizations[clientId] = {
        sid: randomBytes(16).toString('base64url').slice(0, 21),
        grantId: routedId(owner, randomBytes(16).toString('base64url').slice(0, 21)),
        ...(c === 1 ? { persistsLogout: true } : {}),
      };
    }
    return {
      id, uid, userId: accountId,
      payload: {
        iat: nowSeconds, exp: nowSeconds + SESSION_TTL_SECONDS, jti: id, kind: 'Session', uid, accountId,
        loginTs: nowSeconds, authorizations,
        cohort: { source: `198.51.100.${n % 256}`, lastSeen: Date.now() },
      },
      expiresAt: (nowSeconds + SESSION_TTL_SECONDS) * 1000,
    };
  }
}

/** Bytes of one record as JSON: what crosses the back channel (plus the envelope) and what the size claims refer to. */
export function jsonBytes(record: SessionRecord): number {
  return Buffer.byteLength(JSON.stringify(record));
}
