// oidc-provider's models (codes, tokens, grants, interactions...) in Redis, keyed by (model, id). Each record is a
// hash with its own TTL: v = the JSON record, k = the consumed stamp, g = the grantId, so consume() and the
// grant-guarded delete are single-key scripts that never parse the payload in Lua. Lookups by uid and userCode
// and the per-grant sets are hints verified against the record on read (see redis-session-store.ts for why);
// they live as long as the records they point to.
import type { ConsumeResult, TokenRecord, TokenStore } from '../types.js';
import { expiryArg, parseJson, type RedisContext } from './context.js';
import { DEL_IF_EQUAL, SADD_EXTEND, TOKEN_CONSUME, TOKEN_DELETE, TOKEN_PUT } from './scripts.js';

export class RedisTokenStore implements TokenStore {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  async put(record: TokenRecord): Promise<void> {
    const at = expiryArg(record.expiresAt);
    const { conn, keys, clock } = this.#ctx;
    const { model, id, uid, userCode, grantId } = record;
    if (record.expiresAt <= clock.now()) {
      await this.delete(model, id);
      return;
    }
    // Same test oidc-provider applies (`!!consumed`): a record stored already consumed stays consumed.
    const consumed = record.payload.consumed;
    await conn.script(TOKEN_PUT, [keys.token(model, id)], [
      JSON.stringify(record), consumed ? '1' : '0', consumed ? JSON.stringify(consumed) : '',
      grantId === undefined ? '0' : '1', grantId ?? '', at,
    ]);
    await Promise.all([
      uid !== undefined ? conn.call('set', (c) => c.set(keys.tokenUid(model, uid), id, 'PXAT', at)) : undefined,
      userCode !== undefined ? conn.call('set', (c) => c.set(keys.tokenUserCode(model, userCode), id, 'PXAT', at)) : undefined,
      grantId !== undefined ? conn.script(SADD_EXTEND, [keys.grant(grantId)], [keys.tokenRef(model, id), at]) : undefined,
    ]);
  }

  async get(model: string, id: string): Promise<TokenRecord | undefined> {
    const { conn, keys } = this.#ctx;
    const [v, k] = await conn.call('hmget', (c) => c.hmget(keys.token(model, id), 'v', 'k'));
    const record = parseJson<TokenRecord>(v);
    if (record !== undefined && k !== null && k !== undefined) record.payload.consumed = JSON.parse(k) as number;
    return record;
  }

  async findByUserCode(model: string, userCode: string): Promise<TokenRecord | undefined> {
    return this.#findBy(this.#ctx.keys.tokenUserCode(model, userCode), model, (r) => r.userCode === userCode);
  }

  async findByUid(model: string, uid: string): Promise<TokenRecord | undefined> {
    return this.#findBy(this.#ctx.keys.tokenUid(model, uid), model, (r) => r.uid === uid);
  }

  async consume(model: string, id: string): Promise<ConsumeResult> {
    const { conn, keys } = this.#ctx;
    const result = await conn.script(TOKEN_CONSUME, [keys.token(model, id)], []);
    if (result !== 'consumed' && result !== 'already_consumed' && result !== 'not_found') {
      throw new Error(`token consume script answered ${String(result)}`);
    }
    return result;
  }

  async delete(model: string, id: string): Promise<void> {
    await this.#delete(model, id, undefined);
  }

  /** Deletes every record still in the grant; a record that moved to another grant since is left alone. */
  async revokeByGrantId(grantId: string): Promise<void> {
    const { conn, keys } = this.#ctx;
    const grant = keys.grant(grantId);
    const refs = await conn.call('smembers', (c) => c.smembers(grant));
    await Promise.all(refs.map(async (ref) => {
      const split = splitRef(ref);
      if (split !== undefined) await this.#delete(split.model, split.id, grantId);
    }));
    // Only the members handled: a record added to the grant meanwhile stays indexed for the next revoke.
    if (refs.length > 0) await conn.call('srem', (c) => c.srem(grant, ...refs));
  }

  async #findBy(indexKey: string, model: string, matches: (r: TokenRecord) => boolean): Promise<TokenRecord | undefined> {
    const { conn } = this.#ctx;
    const id = await conn.call('get', (c) => c.get(indexKey));
    if (id === null) return undefined;
    const record = await this.get(model, id);
    if (record !== undefined && matches(record)) return record;
    await conn.script(DEL_IF_EQUAL, [indexKey], [id]);
    return undefined;
  }

  /** Deletes the record (only while in `grantId`, if given), then the lookups that pointed at it. */
  async #delete(model: string, id: string, grantId: string | undefined): Promise<void> {
    const { conn, keys } = this.#ctx;
    const deleted = parseJson<TokenRecord>(await conn.script(TOKEN_DELETE, [keys.token(model, id)],
      [grantId === undefined ? '0' : '1', grantId ?? '']) as string | null);
    if (deleted === undefined) return;
    const { uid, userCode } = deleted;
    await Promise.all([
      uid !== undefined ? conn.script(DEL_IF_EQUAL, [keys.tokenUid(model, uid)], [id]) : undefined,
      userCode !== undefined ? conn.script(DEL_IF_EQUAL, [keys.tokenUserCode(model, userCode)], [id]) : undefined,
      deleted.grantId !== undefined && grantId === undefined
        ? conn.call('srem', (c) => c.srem(keys.grant(deleted.grantId!), keys.tokenRef(model, id)))
        : undefined,
    ]);
  }
}

/** Inverse of KeyLayout.tokenRef: "<model length>:<model>:<id>". */
function splitRef(ref: string): { model: string; id: string } | undefined {
  const colon = ref.indexOf(':');
  const length = Number(ref.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(length) || ref[colon + 1 + length] !== ':') return undefined;
  return { model: ref.slice(colon + 1, colon + 1 + length), id: ref.slice(colon + 2 + length) };
}
