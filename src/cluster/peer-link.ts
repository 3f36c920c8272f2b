// An outbound link to one address: dial, authenticate (TLS), introduce ourselves (hello → welcome), hand the
// connection to the node, and when it drops, redial with bounded exponential backoff until stopped.
// The link ends for good only when stopped or when the address turns out to be this node itself.
import type { ExponentialBackoff } from './backoff.js';
import { parseHostPort } from './config.js';
import type { Connection } from './connection.js';
import { ClusterError } from './errors.js';
import { parseMessage, type HelloMessage, type WelcomeMessage } from './protocol.js';
import type { Transport } from './transport.js';
import type { ClusterClock } from './types.js';

export type LinkOutcome =
  | { kind: 'joined'; index: number }
  | { kind: 'self' }
  /** The member answered with a refusal (index in use, no common protocol version, other cluster). */
  | { kind: 'refused'; error: ClusterError }
  /** Unreachable, TLS failure (CLUSTER_AUTH), timeout, or a welcome this node would not accept. */
  | { kind: 'failed'; error: ClusterError };

export interface PeerLinkOptions {
  /** host:port to dial. */
  address: string;
  transport: Transport;
  clock: ClusterClock;
  backoff: ExponentialBackoff;
  /** Bound on dial + TLS + hello together. */
  handshakeTimeoutMs: number;
  hello: () => HelloMessage;
  /**
   * Takes over the connection after a welcome: returns the member's index, or 'self' when the welcome came from this
   * very node. Throws a ClusterError when the welcome is unacceptable.
   */
  established: (connection: Connection, welcome: WelcomeMessage) => number | 'self';
  /** Every attempt's outcome, for logging, the error event and start()'s wait. */
  onOutcome: (link: PeerLink, outcome: LinkOutcome) => void;
}

export class PeerLink {
  readonly address: string;
  readonly #options: PeerLinkOptions;
  readonly #host: string;
  readonly #port: number;
  #stopped = false;
  #timer: unknown;
  #connection: Connection | undefined;
  #resolveFirst!: (outcome: LinkOutcome) => void;
  /** The outcome of the first attempt: start() waits on these for the initial hosts. */
  readonly firstOutcome: Promise<LinkOutcome>;
  /** The member index this address led to, once known. */
  memberIndex: number | undefined;
  /** The address turned out to be this node (e.g. its own entry in a shared initialHosts list). */
  isSelf = false;

  constructor(options: PeerLinkOptions) {
    this.#options = options;
    this.address = options.address;
    ({ host: this.#host, port: this.#port } = parseHostPort(options.address, 'initialHosts'));
    this.firstOutcome = new Promise((resolve) => { this.#resolveFirst = resolve; });
  }

  /** An established connection is up right now. */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  start(): void {
    void this.#attempt();
  }

  /** No more redials. An established connection belongs to the node, which closes it; one mid-handshake is dropped. */
  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#resolveFirst({ kind: 'failed', error: new ClusterError('CLUSTER_STOPPED', 'the node is stopping') });
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    const deadline = this.#options.clock.now() + this.#options.handshakeTimeoutMs;
    let connection: Connection | undefined;
    try {
      connection = await this.#options.transport.dial(this.#host, this.#port, this.#options.handshakeTimeoutMs);
      if (this.#stopped) {
        connection.destroy();
        return;
      }
      const welcome = await this.#exchangeHello(connection, Math.max(1, deadline - this.#options.clock.now()));
      if (this.#stopped) {
        connection.destroy();
        return;
      }
      const result = this.#options.established(connection, welcome);
      if (result === 'self') {
        this.isSelf = true;
        connection.close();
        this.#report({ kind: 'self' });
        return;
      }
      this.memberIndex = result;
      this.#connection = connection;
      this.#options.backoff.reset();
      connection.onClose(() => {
        this.#connection = undefined;
        this.#schedule();
      });
      this.#report({ kind: 'joined', index: result });
    } catch (error) {
      connection?.destroy();
      if (!this.#stopped) {
        if (error instanceof RefusedError) this.#report({ kind: 'refused', error: error.error });
        else {
          this.#report({ kind: 'failed', error: error instanceof ClusterError ? error
            : new ClusterError('CLUSTER_PROTOCOL', `link to ${this.address} failed: ${String(error)}`, { cause: error }) });
        }
      }
      this.#schedule();
    }
  }

  #exchangeHello(connection: Connection, timeoutMs: number): Promise<WelcomeMessage> {
    return new Promise<WelcomeMessage>((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => reject(new ClusterError('CLUSTER_TIMEOUT',
        `no answer to hello from ${this.address} within ${this.#options.handshakeTimeoutMs} ms`)), timeoutMs);
      const settle = (fn: () => void) => {
        this.#options.clock.clearTimeout(timer);
        fn();
      };
      connection.onMessage((raw) => {
        try {
          const message = parseMessage(raw);
          if (message?.type === 'welcome') {
            connection.onMessage(undefined); // hold what follows for the session that is about to take over
            settle(() => resolve(message));
          }
          else if (message?.type === 'refuse') {
            settle(() => reject(new RefusedError(
              new ClusterError(message.code, `${this.address} refused this node: ${message.reason}`))));
          } else settle(() => reject(new ClusterError('CLUSTER_PROTOCOL', `${this.address} did not answer the hello`)));
        } catch (error) {
          settle(() => reject(error));
        }
      });
      connection.onClose((reason) => settle(() => reject(reason ?? new ClusterError('CLUSTER_UNREACHABLE',
        `${this.address} closed the connection during the hello`))));
      try {
        connection.send(this.#options.hello());
      } catch (error) {
        settle(() => reject(error));
      }
    });
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.#options.clock.setTimeout(() => void this.#attempt(), this.#options.backoff.next());
  }

  #report(outcome: LinkOutcome): void {
    this.#resolveFirst(outcome);
    this.#options.onOutcome(this, outcome);
  }
}

/** Carries a refusal through the attempt's catch, apart from failures this side detected. */
class RefusedError extends Error {
  constructor(readonly error: ClusterError) {
    super(error.message);
  }
}
