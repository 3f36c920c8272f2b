// Which relying parties and service providers each session was issued to, for single logout: one hash per
// session, shared by every node. A participant is one field pair keyed by protocol and client id (o:<f> = the rank
// it was first added with, p:<f> = its JSON), so an add is one single-key script and a repeat add replaces the
// details in place.
import type { Participant, SessionRegistry } from '../types.js';
import { expiryArg, type RedisContext } from './context.js';
import { REGISTRY_ADD } from './scripts.js';

/** Length-prefixed, so ('oidc', 'a:b') and a protocol containing ':' can never share a field. */
const field = (p: Participant): string => `${p.protocol.length}:${p.protocol}:${p.clientId}`;

export class RedisSessionRegistry implements SessionRegistry {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  /** The entry lives until the latest expiry any add gave it; a shorter one never cuts participants off. */
  async add(sessionId: string, participant: Participant, expiresAt: number): Promise<void> {
    const at = expiryArg(expiresAt);
    const { conn, keys } = this.#ctx;
    await conn.script(REGISTRY_ADD, [keys.registry(sessionId)], [field(participant), JSON.stringify(participant), at]);
  }

  async list(sessionId: string): Promise<Participant[]> {
    const { conn, keys } = this.#ctx;
    const hash = await conn.call('hgetall', (c) => c.hgetall(keys.registry(sessionId)));
    const ranked: Array<{ rank: number; participant: Participant }> = [];
    for (const [name, value] of Object.entries(hash)) {
      if (!name.startsWith('p:')) continue;
      ranked.push({ rank: Number(hash[`o:${name.slice(2)}`]), participant: JSON.parse(value) as Participant });
    }
    return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.participant);
  }

  async remove(sessionId: string): Promise<void> {
    const { conn, keys } = this.#ctx;
    await conn.call('del', (c) => c.del(keys.registry(sessionId)));
  }
}
