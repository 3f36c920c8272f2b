// Whom a node dials: every initial host, and every member gossip reveals that it has no link or connection to.
// Each address gets one PeerLink for the node's lifetime, except a gossiped member that left (it may never return).
import { ExponentialBackoff } from './backoff.js';
import type { Connection } from './connection.js';
import { PeerLink, type LinkOutcome } from './peer-link.js';
import type { HelloMessage, MemberDigest, WelcomeMessage } from './protocol.js';
import type { Transport } from './transport.js';
import type { ClusterClock } from './types.js';

export interface DiscoveryOptions {
  transport: Transport;
  clock: ClusterClock;
  handshakeTimeoutMs: number;
  hello: () => HelloMessage;
  established: (connection: Connection, welcome: WelcomeMessage) => number | 'self';
  /** Whether a gossiped member is worth a link: not self, not a departed instance, not already connected. */
  wanted: (digest: MemberDigest) => boolean;
  onOutcome: (link: PeerLink, outcome: LinkOutcome) => void;
}

export class Discovery {
  readonly #options: DiscoveryOptions;
  readonly #links = new Map<string, PeerLink>();
  #stopped = false;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  /** Every link by address (for the configured-member count: which entries were self, whom they reached). */
  get links(): ReadonlyMap<string, PeerLink> {
    return this.#links;
  }

  /** The link to `address`, created and started on first use. */
  link(address: string): PeerLink {
    const existing = this.#links.get(address);
    if (existing) return existing;
    const link = new PeerLink({
      address,
      transport: this.#options.transport,
      clock: this.#options.clock,
      backoff: new ExponentialBackoff(),
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs,
      hello: this.#options.hello,
      established: this.#options.established,
      onOutcome: this.#options.onOutcome,
    });
    this.#links.set(address, link);
    if (this.#stopped) link.stop();
    else link.start();
    return link;
  }

  /** Starts links to the gossiped members worth one. */
  learn(digests: readonly MemberDigest[]): void {
    if (this.#stopped) return;
    for (const digest of digests) {
      if (!this.#links.has(digest.address) && this.#options.wanted(digest)) this.link(digest.address);
    }
  }

  /** Stops redialling `address` and forgets it, so new gossip about it can start afresh. */
  forget(address: string): void {
    this.#links.get(address)?.stop();
    this.#links.delete(address);
  }

  stop(): void {
    this.#stopped = true;
    for (const link of this.#links.values()) link.stop();
  }
}
