// One framed JSON connection over an already authenticated stream (a TLS socket in production). It turns bytes into
// messages and back, refuses to grow its send buffer without bound, and reports exactly one close with its reason.
import type { Duplex } from 'node:stream';
import { ClusterError } from './errors.js';
import { encodeFrame, FrameDecoder } from './frame.js';

export type ConnectionDirection = 'inbound' | 'outbound';

export interface Connection {
  /** host:port of the other end, for logs and error messages. */
  readonly remoteAddress: string;
  readonly direction: ConnectionDirection;
  readonly closed: boolean;
  /** Sends one message; throws CLUSTER_FRAME_TOO_LARGE, CLUSTER_OVERLOADED or CLUSTER_UNREACHABLE (closed). */
  send(message: object): void;
  /**
   * Sets the one consumer of incoming messages, replacing the previous one; undefined holds messages instead. The
   * handshake holds what follows its last message until the session takes over, so nothing that arrived in the same
   * read is lost in between. Held messages go to the next consumer, in order.
   */
  onMessage(listener: ((message: unknown) => void) | undefined): void;
  /** Adds a listener called once at close, with the reason when it was not a clean end (at once if already closed). */
  onClose(listener: (reason: ClusterError | undefined) => void): void;
  /** Stops reading (the peer's writes then back up on its side) until resume(). */
  pause(): void;
  resume(): void;
  /** Flushes what is queued, then ends; destroys after a grace period if the peer does not close its side. */
  close(): void;
  /** Drops the connection at once: nothing queued is sent. */
  destroy(reason?: ClusterError): void;
}

export interface SocketConnectionOptions {
  maxFrameBytes: number;
  /** send() refuses once this many bytes wait in the socket's buffer. */
  maxBufferedBytes: number;
  /** How long close() waits for the peer to finish before destroying. */
  closeGraceMs?: number;
}

const DEFAULT_CLOSE_GRACE_MS = 1_000;

export class SocketConnection implements Connection {
  readonly remoteAddress: string;
  readonly direction: ConnectionDirection;
  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #options: SocketConnectionOptions;
  #pending: unknown[] = [];
  #messageListener: ((message: unknown) => void) | undefined;
  readonly #closeListeners: Array<(reason: ClusterError | undefined) => void> = [];
  #closed = false;
  #closeReason: ClusterError | undefined;

  constructor(socket: Duplex, remoteAddress: string, direction: ConnectionDirection, options: SocketConnectionOptions) {
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
    this.direction = direction;
    this.#options = options;
    this.#decoder = new FrameDecoder(options.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: Error) => {
      this.#closeReason ??= new ClusterError('CLUSTER_UNREACHABLE', `connection to ${remoteAddress} failed: ${error.message}`,
        { cause: error });
    });
    socket.on('close', () => this.#finish());
    if (socket.destroyed) queueMicrotask(() => this.#finish());
  }

  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  send(message: object): void {
    if (this.closed || this.#socket.writableEnded) {
      throw new ClusterError('CLUSTER_UNREACHABLE', `connection to ${this.remoteAddress} is closed`);
    }
    const frame = encodeFrame(message, this.#options.maxFrameBytes);
    // socket.write always accepts and buffers; checking first is what keeps a slow reader from growing our memory.
    if (this.#socket.writableLength + frame.length > this.#options.maxBufferedBytes) {
      throw new ClusterError('CLUSTER_OVERLOADED',
        `send buffer to ${this.remoteAddress} is full (${this.#socket.writableLength} bytes waiting)`);
    }
    this.#socket.write(frame);
  }

  onMessage(listener: ((message: unknown) => void) | undefined): void {
    this.#messageListener = listener;
    // Delivered one at a time through the field, so a consumer that hands over (or holds again) mid-way is obeyed.
    while (this.#pending.length > 0 && this.#messageListener && !this.#closed) {
      this.#messageListener(this.#pending.shift());
    }
  }

  onClose(listener: (reason: ClusterError | undefined) => void): void {
    if (this.#closed) queueMicrotask(() => listener(this.#closeReason));
    else this.#closeListeners.push(listener);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  close(): void {
    if (this.closed) return;
    this.#socket.end();
    const grace = setTimeout(() => this.#socket.destroy(), this.#options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    grace.unref();
    this.#socket.once('close', () => clearTimeout(grace));
  }

  destroy(reason?: ClusterError): void {
    if (reason) this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    let messages: unknown[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (error) {
      // A malformed or oversized frame leaves the stream unframed: nothing after it can be trusted, so drop it all.
      this.destroy(error instanceof ClusterError ? error : new ClusterError('CLUSTER_PROTOCOL', String(error)));
      return;
    }
    for (const message of messages) {
      if (this.#socket.destroyed) return;
      if (this.#messageListener) this.#messageListener(message);
      else this.#pending.push(message);
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    for (const listener of this.#closeListeners.splice(0)) listener(this.#closeReason);
  }
}
