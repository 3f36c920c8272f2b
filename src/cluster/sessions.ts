// The established connections of a node, by member, and answering requests on them. A pair of members may hold two (each dialled the other); any
// open one carries any message, preferring the one this node dialled, which it also keeps alive by redialling.
import type { Connection } from './connection.js';
import { ClusterError } from './errors.js';
import type { ResponseMessage } from './protocol.js';

export interface Session {
  readonly connection: Connection;
  readonly index: number;
  readonly instanceId: string;
  /** Protocol version negotiated on this connection: the `v` of every message sent on it. */
  readonly protocolVersion: number;
  /** Requests from the peer being answered now: reading pauses when too many are. */
  inflight: number;
  /** Reading is paused for backpressure: the peer's silence is then this node's doing, not a sign of failure. */
  paused: boolean;
}

export class SessionTable {
  readonly #byIndex = new Map<number, Set<Session>>();

  add(session: Session): void {
    let set = this.#byIndex.get(session.index);
    if (!set) this.#byIndex.set(session.index, (set = new Set()));
    set.add(session);
  }

  remove(session: Session): void {
    const set = this.#byIndex.get(session.index);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.#byIndex.delete(session.index);
  }

  /** Open sessions with the member (of one instance only, when given). */
  of(index: number, instanceId?: string): Session[] {
    return [...(this.#byIndex.get(index) ?? [])]
      .filter((s) => !s.connection.closed && (instanceId === undefined || s.instanceId === instanceId));
  }

  has(index: number): boolean {
    return this.of(index).length > 0;
  }

  /** The session to send on: an outbound one if open, else any open one. */
  pick(index: number, instanceId?: string): Session | undefined {
    const open = this.of(index, instanceId);
    return open.find((s) => s.connection.direction === 'outbound') ?? open[0];
  }

  all(): Session[] {
    return [...this.#byIndex.values()].flatMap((set) => [...set]);
  }
}

/** Sends, or drops the connection when even that fails: the peer then sees a close instead of silence. */
export function sendOrDrop(connection: Connection, message: object): void {
  try {
    connection.send(message);
  } catch {
    connection.destroy();
  }
}

/** Reading from a connection pauses while this many of its requests are being answered: backpressure to the caller. */
export const MAX_INFLIGHT_PER_CONNECTION = 256;

/**
 * Answers a request that arrived on `session` and sends the response back on it (or, if it closed meanwhile, on
 * another open session with the same instance). Counts the request as in flight while it runs.
 */
export function serveRequest(session: Session, sessions: SessionTable,
  answer: () => Promise<Omit<ResponseMessage, 'v'> | undefined>): void {
  const { connection } = session;
  if (++session.inflight >= MAX_INFLIGHT_PER_CONNECTION && !session.paused) {
    session.paused = true;
    connection.pause();
  }
  void answer().then((response) => {
    if (!response) return;
    const target = connection.closed ? sessions.pick(session.index, session.instanceId) : session;
    if (!target) return; // the caller is gone or will time out: nobody is left to answer
    try {
      target.connection.send({ v: target.protocolVersion, ...response });
    } catch (error) {
      // An unserialisable or oversized result still gets an answer, so the caller need not wait out its deadline.
      const code = error instanceof ClusterError ? error.code : 'CLUSTER_PROTOCOL';
      sendOrDrop(target.connection, { v: target.protocolVersion, type: 'response', id: response.id, ok: false,
        error: { code, message: `the answer could not be sent: ${(error as Error).message}` } });
    }
  }).finally(() => {
    if (--session.inflight <= MAX_INFLIGHT_PER_CONNECTION / 2 && session.paused) {
      session.paused = false;
      connection.resume();
    }
  });
}
