// One error class for the whole cluster layer. Callers branch on `code`, never on message text: the codes below are
// a stable contract (docs/errors.md lists them), the messages are for people and may be reworded.

export const CLUSTER_ERROR_CODES = [
  /** A configuration field is missing or out of range; the message names the field. */
  'CLUSTER_CONFIG',
  /** The back channel could not bind its port. */
  'CLUSTER_BIND',
  /** An RPC, handshake or dial did not finish within its deadline. */
  'CLUSTER_TIMEOUT',
  /** The member is dead, has left, is unknown, or has no open connection; fails fast instead of waiting. */
  'CLUSTER_UNREACHABLE',
  /** TLS-PSK handshake failed: the peer holds another cluster secret or cluster name (or does not speak TLS). */
  'CLUSTER_AUTH',
  /** The peer refused this node at join, e.g. its node index is already in use. */
  'CLUSTER_REFUSED',
  /** Malformed frame or message, or no common protocol version. */
  'CLUSTER_PROTOCOL',
  /** A frame is larger than maxFrameBytes (sending it was refused, or receiving it closed the connection). */
  'CLUSTER_FRAME_TOO_LARGE',
  /** The connection's send buffer is full: the peer does not read fast enough. */
  'CLUSTER_OVERLOADED',
  /** No handler is registered for the RPC method on the callee. */
  'CLUSTER_NO_HANDLER',
  /** The remote handler failed; `remoteCode` carries the code it threw. */
  'CLUSTER_REMOTE',
  /** Too few members answered (or are alive) to make a majority of the configured members. */
  'CLUSTER_NO_QUORUM',
  /** The node is not started or has been stopped. */
  'CLUSTER_STOPPED',
] as const;

export type ClusterErrorCode = (typeof CLUSTER_ERROR_CODES)[number];

export interface ClusterErrorOptions {
  cause?: unknown;
  /** Node index of the member the failure concerns, when there is one. */
  member?: number;
  /** For CLUSTER_REMOTE: the code the remote handler failed with. */
  remoteCode?: string;
}

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly member: number | undefined;
  readonly remoteCode: string | undefined;

  constructor(code: ClusterErrorCode, message: string, options: ClusterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClusterError';
    this.code = code;
    this.member = options.member;
    this.remoteCode = options.remoteCode;
  }
}

export function isClusterError(value: unknown, code?: ClusterErrorCode): value is ClusterError {
  return value instanceof ClusterError && (code === undefined || value.code === code);
}
