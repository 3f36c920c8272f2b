// The decisions of the hello exchange, as pure functions: who is let in, at which protocol version, and the exact
// reason given to whoever is not. TLS has already authenticated both sides as holders of the cluster key; this step
// is about identity (one live node per index) and compatibility, not about trust.
import type { Connection } from './connection.js';
import { ClusterError } from './errors.js';
import {
  negotiateVersion, parseMessage, type HelloMessage, type MemberDigest, type NodeIdentity, type RefusalCode, type VersionRange,
  type WelcomeMessage,
} from './protocol.js';
import { sendOrDrop } from './sessions.js';
import type { ClusterClock } from './types.js';

export interface HandshakeContext {
  self: NodeIdentity;
  supported: VersionRange;
  /** The live member already holding `identity`'s index under another instance, if any. */
  holderOf: (identity: NodeIdentity) => { address: string } | undefined;
}

export type Admission =
  | { verdict: 'accept'; version: number }
  /** The hello came from this very node (its own address in initialHosts): answer so it can tell, then part. */
  | { verdict: 'self'; version: number }
  | { verdict: 'refuse'; code: RefusalCode; reason: string };

/** The reason a node hears when its index is taken; it names the holder so the operator knows where to look. */
export function indexInUseReason(index: number, holderAddress: string): string {
  return `node index ${index} is already in use by ${holderAddress}`;
}

/** The first message on an accepted connection, which must be a hello; otherwise the error to refuse with. */
export function readHello(raw: unknown): HelloMessage | ClusterError {
  try {
    const message = parseMessage(raw);
    if (message?.type === 'hello') return message;
    return new ClusterError('CLUSTER_PROTOCOL', 'the first message must be a hello');
  } catch (error) {
    return error instanceof ClusterError ? error : new ClusterError('CLUSTER_PROTOCOL', String(error));
  }
}

/** The acceptor's decision on a hello. */
export function admitHello(hello: HelloMessage, context: HandshakeContext): Admission {
  const { self } = context;
  if (hello.cluster !== self.cluster) {
    return { verdict: 'refuse', code: 'CLUSTER_REFUSED',
      reason: `cluster name '${hello.cluster}' does not match this cluster '${self.cluster}'` };
  }
  const version = negotiateVersion(context.supported, hello.protocol);
  if (version instanceof ClusterError) return { verdict: 'refuse', code: 'CLUSTER_PROTOCOL', reason: version.message };
  if (hello.instanceId === self.instanceId) return { verdict: 'self', version };
  if (hello.index === self.index) {
    return { verdict: 'refuse', code: 'CLUSTER_REFUSED', reason: indexInUseReason(hello.index, self.address) };
  }
  const holder = context.holderOf(hello);
  if (holder) return { verdict: 'refuse', code: 'CLUSTER_REFUSED', reason: indexInUseReason(hello.index, holder.address) };
  return { verdict: 'accept', version };
}

/**
 * The dialler's check of a welcome: the version the acceptor chose must be the one this side would choose too, and
 * the same identity rules apply in this direction. Returns the version, 'self', or throws a ClusterError.
 */
export function checkWelcome(welcome: WelcomeMessage, context: HandshakeContext): number | 'self' {
  const { self } = context;
  if (welcome.instanceId === self.instanceId) return 'self';
  if (welcome.cluster !== self.cluster) {
    throw new ClusterError('CLUSTER_REFUSED', `${welcome.address} belongs to cluster '${welcome.cluster}', not '${self.cluster}'`);
  }
  const version = negotiateVersion(context.supported, welcome.protocol);
  if (version instanceof ClusterError) throw version;
  if (welcome.v !== version) {
    throw new ClusterError('CLUSTER_PROTOCOL', `${welcome.address} chose protocol version ${welcome.v}, expected ${version}`);
  }
  if (welcome.index === self.index) {
    throw new ClusterError('CLUSTER_REFUSED', indexInUseReason(welcome.index, welcome.address));
  }
  const holder = context.holderOf(welcome);
  if (holder) {
    throw new ClusterError('CLUSTER_REFUSED',
      `${welcome.address} answers as node index ${welcome.index}, which is in use by ${holder.address}`,
      { member: welcome.index });
  }
  return version;
}

export function helloMessage(self: NodeIdentity, supported: VersionRange): HelloMessage {
  // v of a hello is informational (the sender's newest); the hello's layout is the same in every version.
  return { v: supported.max, type: 'hello', ...self, protocol: { ...supported } };
}

export function welcomeMessage(self: NodeIdentity, supported: VersionRange, version: number,
  members: MemberDigest[]): WelcomeMessage {
  return { v: version, type: 'welcome', ...self, protocol: { ...supported }, members };
}

export interface AcceptOptions {
  clock: ClusterClock;
  /** The hello must arrive within this time, or the connection is dropped. */
  timeoutMs: number;
  context: () => HandshakeContext;
  /** The member list the welcome carries. */
  members: () => MemberDigest[];
  /**
   * Takes over an admitted connection (before the welcome is sent, so nothing the peer sends next is missed) and
   * returns what to do once the welcome is on its way (announce the member: its listeners may call it at once).
   */
  admitted: (hello: HelloMessage, version: number) => () => void;
  refused: (reason: string) => void;
}

/** Runs the acceptor's side of the hello exchange on a fresh inbound connection. */
export function acceptHello(connection: Connection, options: AcceptOptions): void {
  const timer = options.clock.setTimeout(
    () => connection.destroy(new ClusterError('CLUSTER_TIMEOUT', 'no hello in time')), options.timeoutMs);
  connection.onClose(() => options.clock.clearTimeout(timer));
  connection.onMessage((raw) => {
    options.clock.clearTimeout(timer);
    // One hello per connection: whatever follows is held for the session, or dropped with a refused peer.
    connection.onMessage(undefined);
    const hello = readHello(raw);
    const context = options.context();
    const admission = hello instanceof ClusterError
      ? { verdict: 'refuse' as const, code: 'CLUSTER_PROTOCOL' as const, reason: hello.message }
      : admitHello(hello, context);
    if (admission.verdict === 'refuse') {
      sendOrDrop(connection, { v: context.supported.max, type: 'refuse', code: admission.code, reason: admission.reason });
      connection.close();
      return options.refused(admission.reason);
    }
    const welcome = welcomeMessage(context.self, context.supported, admission.version, options.members());
    // To itself the node only answers, so the dialling side can recognise itself and hang up.
    const announce = admission.verdict === 'accept' ? options.admitted(hello as HelloMessage, admission.version) : undefined;
    sendOrDrop(connection, welcome);
    announce?.();
  });
}
