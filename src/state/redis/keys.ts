// Where every record of the redis backend lives. One place for the whole layout, so a reader (or an operator with
// redis-cli) sees it at once:
//
//   <p>s:<id>            hash  session: v = JSON record, c = creation score, u = uid, o = userId     PEXPIREAT expiry
//   <p>su:<uid>          str   session id behind a uid (verified against the record on read)        PXAT expiry
//   <p>sx:<userId>       zset  a user's session ids by creation score (dead members pruned on read)  longest member
//   <p>{sl}:created      zset  every session id by creation score (list order)                        longest member
//   <p>{sl}:expires      zset  every session id by expiry (finds dead members without a scan)         longest member
//   <p>i:<id>            str   inter-request JSON                                                     PXAT expiry
//   <p>t:<n>:<model>:<id> hash token: v = JSON record, k = consumed (JSON), g = grantId              PEXPIREAT expiry
//   <p>tu:<n>:<model>:<uid> / <p>tc:<n>:<model>:<userCode>   str  token id (verified on read)        PXAT expiry
//   <p>tg:<grantId>      set   "<n>:<model>:<id>" of every record in the grant                        longest member
//   <p>r:<n>:<ns>:<id>   str   replay marker                                                          PXAT expiry
//   <p>a:<handle>        str   SAML message behind an artifact                                        PXAT expiry
//   <p>g:<sessionId>     hash  registry: # counter, x expiry, o:<f> first-added rank, p:<f> JSON     latest add
//   <p>{rv}:order        zset  revoked ids by insertion rank (FIFO cap)                               longest member
//   <p>{rv}:e:<id>       str   a revocation's expiry (epoch ms)                                       PXAT expiry
//   <p>rv:revoked        pub/sub channel announcing each revocation
//   <p>f:<key>           zset  failure timestamps; member ~w (score = -widest window) keeps the window  widest window
//
// <n>:<a>:<b> is a length-prefixed pair, so ('a:b', 'c') and ('a', 'b:c') stay apart. Keys that one Lua script or
// one multi-key command touches together share a hash tag ({sl}, {rv}) so they land in one Redis Cluster slot; every
// other script touches a single key, so records spread over the whole cluster. The tag follows the prefix (rather
// than enclosing it) so the prefix stays a plain prefix for ACL key patterns and SCAN.

/** Default key prefix: lets several clusters (or other applications) share one Redis. */
export const DEFAULT_KEY_PREFIX = 'cohort:';

/** Why a prefix is unusable, or undefined: braces would move our hash tags, and keys must stay short. */
export function checkKeyPrefix(prefix: string): string | undefined {
  if (/[{}]/.test(prefix)) return 'must not contain { or } (they would change the Redis Cluster hash tags)';
  if (prefix.length > 64) return 'must be at most 64 characters';
  return undefined;
}

const pair = (a: string, b: string): string => `${a.length}:${a}:${b}`;

export class KeyLayout {
  readonly sessionsCreated: string;
  readonly sessionsExpiring: string;
  readonly revocationOrder: string;
  readonly revocationChannel: string;
  readonly #p: string;

  constructor(prefix: string = DEFAULT_KEY_PREFIX) {
    const problem = checkKeyPrefix(prefix);
    if (problem !== undefined) throw new RangeError(`keyPrefix ${problem}`);
    this.#p = prefix;
    this.sessionsCreated = `${prefix}{sl}:created`;
    this.sessionsExpiring = `${prefix}{sl}:expires`;
    this.revocationOrder = `${prefix}{rv}:order`;
    this.revocationChannel = `${prefix}rv:revoked`;
  }

  session(id: string): string {
    return `${this.#p}s:${id}`;
  }

  sessionUid(uid: string): string {
    return `${this.#p}su:${uid}`;
  }

  userSessions(userId: string): string {
    return `${this.#p}sx:${userId}`;
  }

  interRequest(id: string): string {
    return `${this.#p}i:${id}`;
  }

  /** The grant set's member for a token: what token() appends to the prefix. */
  tokenRef(model: string, id: string): string {
    return pair(model, id);
  }

  token(model: string, id: string): string {
    return `${this.#p}t:${pair(model, id)}`;
  }

  tokenFromRef(ref: string): string {
    return `${this.#p}t:${ref}`;
  }

  tokenUid(model: string, uid: string): string {
    return `${this.#p}tu:${pair(model, uid)}`;
  }

  tokenUserCode(model: string, userCode: string): string {
    return `${this.#p}tc:${pair(model, userCode)}`;
  }

  grant(grantId: string): string {
    return `${this.#p}tg:${grantId}`;
  }

  replay(namespace: string, id: string): string {
    return `${this.#p}r:${pair(namespace, id)}`;
  }

  artifact(handle: string): string {
    return `${this.#p}a:${handle}`;
  }

  registry(sessionId: string): string {
    return `${this.#p}g:${sessionId}`;
  }

  revocation(sessionId: string): string {
    return `${this.#p}{rv}:e:${sessionId}`;
  }

  failures(key: string): string {
    return `${this.#p}f:${key}`;
  }
}
