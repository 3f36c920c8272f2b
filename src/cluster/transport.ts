// The back channel's transport: TLS 1.2 with a pre-shared key (RFC 4279/5489) derived from the cluster secret.
// TLS does all the cryptography: a peer without the key fails the handshake before a single frame is read, so it can
// neither join, read nor inject. No certificates are needed; the ciphers below all give forward secrecy and AEAD.
import net from 'node:net';
import tls from 'node:tls';
import { formatHostPort, type HostPort } from './config.js';
import { SocketConnection, type Connection } from './connection.js';
import { ClusterError } from './errors.js';
import { constantTimeEqual, deriveBackChannelPsk, pskIdentity } from './secret.js';

/** The seam between the cluster logic and the network; an in-memory implementation can stand in for unit tests. */
export interface Transport {
  /** Binds and starts accepting; resolves with the bound address (the real port when asked for 0). */
  listen(host: string, port: number, onConnection: (connection: Connection) => void): Promise<HostPort>;
  /** Connects and authenticates; rejects CLUSTER_UNREACHABLE, CLUSTER_AUTH or CLUSTER_TIMEOUT. */
  dial(host: string, port: number, timeoutMs: number): Promise<Connection>;
  /** Stops listening and drops every socket at once, accepted or dialled, without any goodbye. */
  close(): Promise<void>;
}

/**
 * Preference order. ECDHE-PSK-AES256-GCM-SHA384 is in the RFC 8442 draft but not in OpenSSL; it is listed so it is
 * used if a future OpenSSL adds it. DHE-PSK suites need the server's dhparam; 'auto' picks RFC 7919 groups.
 */
export const BACK_CHANNEL_CIPHER_PREFERENCE: readonly string[] = [
  'ECDHE-PSK-CHACHA20-POLY1305',
  'ECDHE-PSK-AES256-GCM-SHA384',
  'DHE-PSK-AES256-GCM-SHA384',
  'DHE-PSK-CHACHA20-POLY1305',
  'DHE-PSK-AES128-GCM-SHA256',
];

/** The preferred suites this Node's OpenSSL offers, as an OpenSSL cipher string; throws if it offers none. */
export function backChannelCiphers(available: readonly string[] = tls.getCiphers()): string {
  const have = new Set(available.map((c) => c.toLowerCase()));
  const usable = BACK_CHANNEL_CIPHER_PREFERENCE.filter((c) => have.has(c.toLowerCase()));
  if (usable.length === 0) {
    throw new ClusterError('CLUSTER_CONFIG', 'this Node.js OpenSSL offers no forward-secret AEAD TLS-PSK cipher suite');
  }
  return usable.join(':');
}

export interface TlsPskTransportOptions {
  clusterName: string;
  /** The base64url cluster secret; only the derived PSK is kept. */
  secret: string;
  maxFrameBytes: number;
  /** An accepted socket that has not finished the TLS handshake within this time is dropped. */
  handshakeTimeoutMs: number;
  /** Told about every accepted socket that failed the handshake (wrong key, plaintext, scanner, timeout). */
  onHandshakeFailure?: (remoteAddress: string, error: Error) => void;
}

const TLS_VERSION = 'TLSv1.2'; // Node's TLS-PSK works with TLS 1.2 only; 1.3 PSK is resumption-oriented.

export class TlsPskTransport implements Transport {
  readonly #options: TlsPskTransportOptions;
  readonly #psk: Buffer;
  readonly #identity: string;
  readonly #ciphers: string;
  readonly #sockets = new Set<net.Socket>();
  #server: tls.Server | undefined;

  constructor(options: TlsPskTransportOptions) {
    this.#options = options;
    this.#psk = deriveBackChannelPsk(options.secret, options.clusterName);
    this.#identity = pskIdentity(options.clusterName);
    this.#ciphers = backChannelCiphers();
  }

  listen(host: string, port: number, onConnection: (connection: Connection) => void): Promise<HostPort> {
    if (this.#server) return Promise.reject(new ClusterError('CLUSTER_BIND', 'the back channel is already listening'));
    const server = tls.createServer({
      minVersion: TLS_VERSION,
      maxVersion: TLS_VERSION,
      ciphers: this.#ciphers,
      honorCipherOrder: true,
      dhparam: 'auto',
      handshakeTimeout: this.#options.handshakeTimeoutMs,
      // Returning null aborts the handshake. The identity is not secret; comparing in constant time costs nothing.
      pskCallback: (_socket, identity) => (constantTimeEqual(identity, this.#identity) ? this.#psk : null),
    }, (socket) => {
      onConnection(this.#wrap(socket, remoteOf(socket), 'inbound'));
    });
    this.#server = server;
    server.on('connection', (raw: net.Socket) => this.#track(raw));
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      // With a listener attached Node leaves the socket open (a handshake timeout would linger): close it here.
      socket.destroy();
      this.#options.onHandshakeFailure?.(remoteOf(socket), error);
    });
    return new Promise<HostPort>((resolve, reject) => {
      const onError = (error: Error) => {
        this.#server = undefined;
        reject(new ClusterError('CLUSTER_BIND', `cannot listen on ${formatHostPort(host, port)}: ${error.message}`,
          { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        // A later server error (rare: EMFILE) must not crash the process; sockets report their own failures.
        server.on('error', () => undefined);
        const address = server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  dial(host: string, port: number, timeoutMs: number): Promise<Connection> {
    const target = formatHostPort(host, port);
    return new Promise<Connection>((resolve, reject) => {
      let tcpConnected = false;
      let settled = false;
      const socket = tls.connect({
        host,
        port,
        minVersion: TLS_VERSION,
        maxVersion: TLS_VERSION,
        ciphers: this.#ciphers,
        pskCallback: () => ({ psk: this.#psk, identity: this.#identity }),
        // PSK authenticates the server: only a holder of the key can finish the handshake. There is no certificate
        // whose names could be checked, and Node's default check would fail on its absence.
        checkServerIdentity: () => undefined,
      });
      this.#track(socket);
      const fail = (error: ClusterError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new ClusterError('CLUSTER_TIMEOUT',
        `no TLS session with ${target} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => { tcpConnected = true; });
      // Only a TLS-level failure after TCP connected points at the key; a reset or close is a network problem.
      const failure = (error?: Error) => fail(tcpConnected && isTlsError(error)
        ? new ClusterError('CLUSTER_AUTH', `TLS-PSK handshake with ${target} failed (wrong cluster secret or cluster `
          + `name, or not a Cohort back channel): ${error!.message.split('\n')[0]}`, { cause: error })
        : new ClusterError('CLUSTER_UNREACHABLE', `cannot connect to ${target}${error ? `: ${error.message}` : ''}`,
          { cause: error }));
      socket.on('error', failure);
      socket.once('close', () => failure());
      socket.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('error', failure);
        resolve(this.#wrap(socket, target, 'outbound'));
      });
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #wrap(socket: tls.TLSSocket, remote: string, direction: 'inbound' | 'outbound'): Connection {
    socket.setNoDelay(true); // heartbeats and RPCs are small and latency-bound
    return new SocketConnection(socket, remote, direction, {
      maxFrameBytes: this.#options.maxFrameBytes,
      // Room for two full frames: one being written, one queued; beyond that the peer is not keeping up.
      maxBufferedBytes: 2 * this.#options.maxFrameBytes,
    });
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}

/** OpenSSL and Node TLS errors carry ERR_SSL_* / ERR_TLS_* codes; socket errors carry errno names (ECONNRESET). */
function isTlsError(error: Error | undefined): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^ERR_(SSL|TLS)_/.test(code);
}

function remoteOf(socket: net.Socket): string {
  return socket.remoteAddress ? formatHostPort(socket.remoteAddress, socket.remotePort ?? 0) : 'unknown';
}
