// A cluster member: binds the back channel, dials the initial hosts and whoever they gossip, keeps every member's
// liveness, answers and makes RPCs, and reports quorum. Wiring only: the rules live in membership, handshake, rpc,
// quorum and peer-link; the bytes in transport and connection.
import { randomUUID } from 'node:crypto';
import { VERSION } from '../version.js';
import { canonicalHosts, formatHostPort, resolveClusterConfig, type ClusterConfig } from './config.js';
import type { Connection } from './connection.js';
import { ClusterError } from './errors.js';
import { ClusterEventBus } from './events.js';
import { acceptHello, checkWelcome, helloMessage, type HandshakeContext } from './handshake.js';
import { Discovery } from './discovery.js';
import { Membership, type MembershipEvent } from './membership.js';
import type { LinkOutcome, PeerLink } from './peer-link.js';
import {
  parseMessage, PROTOCOL_VERSION, SUPPORTED_PROTOCOL, type MemberDigest, type NodeIdentity, type RequestMessage,
  type WelcomeMessage,
} from './protocol.js';
import { countMembers, quorumState } from './quorum.js';
import { RpcEngine } from './rpc.js';
import { SessionTable, sendOrDrop, serveRequest, type Session } from './sessions.js';
import { TlsPskTransport, type Transport } from './transport.js';
import {
  systemClock, type BroadcastOptions, type CallOptions, type ClusterClock, type ClusterEventName, type ClusterListener, type ClusterRpc, type ClusterStatus, type MajorityOptions, type MajorityResult, type MemberInfo,
  type MemberResult, type QuorumState, type RpcCaller, type RpcHandler,
} from './types.js';

export interface ClusterNodeOptions {
  clock?: ClusterClock;
  /** Default: TLS-PSK over TCP. */
  transport?: Transport;
  /** Default: a random UUID, fresh for every node object. */
  instanceId?: string;
}

export interface StopOptions {
  /** Tell the members goodbye (member.left) before closing. false drops everything like a crash. @default true */
  leave?: boolean;
}

/** How long stop() lets goodbyes flush before dropping the sockets. */
const LEAVE_FLUSH_MS = 500;

type Phase = 'new' | 'starting' | 'running' | 'stopped';

export class ClusterNode implements ClusterRpc {
  readonly #config: ClusterConfig;
  readonly instanceId: string;
  readonly #clock: ClusterClock;
  readonly #transport: Transport;
  readonly #events = new ClusterEventBus();
  readonly #membership: Membership;
  readonly #rpc: RpcEngine;
  readonly #sessions = new SessionTable();
  readonly #discovery: Discovery;
  /** The configured member set's other entries, canonical host:port. */
  #initialHosts: string[];
  #phase: Phase = 'new';
  #address: string | undefined;
  #heartbeatTimer: unknown;
  #lastState: QuorumState = 'unavailable';
  #lastLinkError = new Map<string, string>();

  constructor(config: Partial<ClusterConfig>, options: ClusterNodeOptions = {}) {
    this.#config = resolveClusterConfig(config);
    this.instanceId = options.instanceId ?? randomUUID();
    this.#clock = options.clock ?? systemClock;
    this.#initialHosts = canonicalHosts(this.#config.initialHosts);
    this.#transport = options.transport ?? new TlsPskTransport({
      clusterName: this.#config.name,
      secret: this.#config.secret,
      maxFrameBytes: this.#config.maxFrameBytes,
      handshakeTimeoutMs: this.#config.rpcTimeoutMs,
      onHandshakeFailure: (remoteAddress, error) => this.#events.emit('connection.rejected',
        { remoteAddress, reason: `TLS handshake failed: ${error.message.split('\n')[0]}` }),
    });
    this.#membership = new Membership({
      failureTimeoutMs: this.#config.failureTimeoutMs,
      now: () => this.#clock.now(),
      onEvent: (event, member) => this.#onMembershipEvent(event, member),
    });
    this.#discovery = new Discovery({
      transport: this.#transport,
      clock: this.#clock,
      handshakeTimeoutMs: this.#config.rpcTimeoutMs,
      hello: () => helloMessage(this.#identity(), SUPPORTED_PROTOCOL),
      established: (connection, welcome) => this.#established(connection, welcome),
      wanted: (d) => d.index !== this.#config.index && d.instanceId !== this.instanceId
        && !this.#membership.accountedFor(d, (index) => this.#sessions.has(index)),
      onOutcome: (link, outcome) => this.#onLinkOutcome(link, outcome),
    });
    this.#rpc = new RpcEngine({
      clock: this.#clock,
      defaultTimeoutMs: this.#config.rpcTimeoutMs,
      self: () => this.#caller(),
      isAlive: (index) => this.#membership.isAlive(index),
      aliveIndices: () => this.#membership.alive().map((m) => m.index),
      configuredMembers: () => this.#counts().configured,
      send: (index, request) => this.#sendTo(index, request),
    });
  }

  /** The resolved configuration, with the secret redacted: this object may end up in a log. */
  get config(): Readonly<ClusterConfig> {
    return { ...this.#config, initialHosts: [...this.#initialHosts], secret: '[redacted]' };
  }

  get selfIndex(): number {
    return this.#config.index;
  }

  /** host:port others dial; known once bound. */
  get address(): string {
    return this.#address ?? formatHostPort(this.#config.advertiseHost || this.#config.bindHost, this.#config.port);
  }

  get self(): MemberInfo {
    return {
      index: this.#config.index, address: this.address, role: this.#config.role,
      state: this.#phase === 'stopped' ? 'left' : 'alive', lastHeard: this.#clock.now(), version: VERSION,
      instanceId: this.instanceId, protocolVersion: PROTOCOL_VERSION,
    };
  }

  /** Binds the back channel (once) and returns the address others dial: the real port when configured with 0. */
  async listen(): Promise<string> {
    if (this.#address) return this.#address;
    if (this.#phase === 'stopped') throw new ClusterError('CLUSTER_STOPPED', 'this node has been stopped');
    const bound = await this.#transport.listen(this.#config.bindHost, this.#config.port, (c) => this.#accept(c));
    this.#address = formatHostPort(this.#config.advertiseHost || this.#config.bindHost, bound.port);
    return this.#address;
  }

  /** Replaces initialHosts before start(): for nodes that learn each other's ports only after listen(). */
  setInitialHosts(hosts: readonly string[]): void {
    if (this.#phase !== 'new') throw new ClusterError('CLUSTER_CONFIG', 'initialHosts can only change before start()');
    this.#initialHosts = canonicalHosts([...hosts]);
  }

  /**
   * Binds, dials every initial host and resolves once each has answered its hello or failed (each bounded by
   * rpcTimeoutMs). Rejects, and stops the node, when a member refuses it (index in use, no common protocol) or when
   * no initial host was joined and one failed TLS authentication (wrong secret). Unreachable hosts are not an error:
   * the first node of a cluster starts alone. A node object starts once.
   */
  async start(): Promise<void> {
    if (this.#phase !== 'new') throw new ClusterError('CLUSTER_STOPPED', `start() called on a node that is ${this.#phase}`);
    this.#phase = 'starting';
    try {
      await this.listen();
    } catch (error) {
      this.#phase = 'stopped';
      await this.#transport.close();
      throw error;
    }
    const initial = this.#initialHosts.filter((h) => h !== this.#address).map((h) => this.#discovery.link(h));
    this.#scheduleHeartbeat();
    const outcomes = await Promise.all(initial.map((link) => link.firstOutcome));
    if (this.#phase !== 'starting') throw new ClusterError('CLUSTER_STOPPED', 'the node was stopped while starting');
    const refused = outcomes.find((o) => o.kind === 'refused');
    const joined = outcomes.some((o) => o.kind === 'joined');
    const auth = outcomes.find((o) => o.kind === 'failed' && o.error.code === 'CLUSTER_AUTH');
    const fatal = refused ?? (!joined ? auth : undefined);
    if (fatal && 'error' in fatal) {
      await this.stop();
      throw fatal.error;
    }
    this.#phase = 'running';
    this.#updateStatus();
  }

  /** Says goodbye (unless `leave: false`), closes every connection and the port. Idempotent. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#discovery.stop();
    this.#rpc.close(new ClusterError('CLUSTER_STOPPED', 'the node has been stopped'));
    if (options.leave ?? true) await this.#sayGoodbye();
    await this.#transport.close();
    this.#updateStatus();
  }

  /** Sends leave on every session and waits (bounded) for the peers to close: they see member.left, not a failure. */
  async #sayGoodbye(): Promise<void> {
    const sessions = this.#sessions.all();
    const closed = sessions.map((s) => new Promise<void>((resolve) => s.connection.onClose(() => resolve())));
    for (const session of sessions) {
      // A connection that cannot take the goodbye is dropped: that member then sees a failure instead.
      sendOrDrop(session.connection, { v: session.protocolVersion, type: 'leave' });
      session.connection.close();
    }
    let timer: unknown;
    const grace = new Promise<void>((resolve) => { timer = this.#clock.setTimeout(resolve, LEAVE_FLUSH_MS); });
    await Promise.race([Promise.all(closed), grace]);
    this.#clock.clearTimeout(timer);
  }

  /** Every other member ever seen, by index. */
  members(): MemberInfo[] {
    return this.#membership.all();
  }

  aliveMembers(): MemberInfo[] {
    return this.#membership.alive();
  }

  status(): ClusterStatus {
    const { configured, reachable } = this.#counts();
    const state = this.#quorum();
    const members = [this.self, ...this.#membership.all()].map(({ index, address, role, state, lastHeard, version }, i) =>
      ({ index, address, role, state, lastHeard, version, self: i === 0 }));
    return { state, readOnly: state !== 'quorum', configuredMembers: configured, reachableMembers: reachable, members };
  }

  handle(method: string, handler: RpcHandler): () => void {
    return this.#rpc.handle(method, handler);
  }

  call<T = unknown>(index: number, method: string, payload?: unknown, options?: CallOptions): Promise<T> {
    return this.#notServing() ?? this.#rpc.call<T>(index, method, payload, options);
  }

  broadcast<T = unknown>(method: string, payload?: unknown, options?: BroadcastOptions): Promise<Array<MemberResult<T>>> {
    return this.#notServing() ?? this.#rpc.broadcast<T>(method, payload, options);
  }

  callMajority<T = unknown>(method: string, payload?: unknown, options?: MajorityOptions): Promise<MajorityResult<T>> {
    return this.#notServing() ?? this.#rpc.callMajority<T>(method, payload, options);
  }

  on<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): this {
    this.#events.off(event, listener);
    return this;
  }

  #identity(): NodeIdentity {
    const { name: cluster, index, role } = this.#config;
    return { cluster, index, role, address: this.address, instanceId: this.instanceId, version: VERSION };
  }

  #handshakeContext(): HandshakeContext {
    return {
      self: this.#identity(),
      supported: SUPPORTED_PROTOCOL,
      // A holder with no open connection is taken for crashed: the newcomer is its restart, not a duplicate.
      holderOf: (identity) => this.#membership.conflictWith(identity, (index) => this.#sessions.has(index)),
    };
  }

  /** An inbound connection: admitted as a session after a hello, or refused with a reason. */
  #accept(connection: Connection): void {
    if (this.#phase === 'stopped') return connection.destroy();
    acceptHello(connection, {
      clock: this.#clock,
      timeoutMs: this.#config.rpcTimeoutMs,
      context: () => this.#handshakeContext(),
      members: () => this.#membership.digest(),
      admitted: (hello, version) => this.#attach(connection, hello, version, [hello]),
      refused: (reason) => this.#events.emit('connection.rejected', { remoteAddress: connection.remoteAddress, reason }),
    });
  }

  /** A welcome on one of this node's links: checked, then the connection becomes a session. */
  #established(connection: Connection, welcome: WelcomeMessage): number | 'self' {
    const version = checkWelcome(welcome, this.#handshakeContext());
    if (version === 'self') return 'self';
    this.#attach(connection, welcome, version, welcome.members)();
    return welcome.index;
  }

  #onLinkOutcome(link: PeerLink, outcome: LinkOutcome): void {
    if (outcome.kind === 'self' || outcome.kind === 'joined') {
      this.#lastLinkError.delete(link.address);
      if (outcome.kind === 'self') this.#updateStatus(); // the configured count just lost an alias of this node
      return;
    }
    // Refusals and authentication failures need an operator; say so once per change, not at every redial.
    const { error } = outcome;
    if (this.#phase !== 'running' || this.#lastLinkError.get(link.address) === error.code) return;
    this.#lastLinkError.set(link.address, error.code);
    if (outcome.kind === 'refused' || error.code === 'CLUSTER_AUTH') this.#events.emitError(error);
  }

  /**
   * Registers the session at once, so the member can be called as soon as it is announced; the returned function
   * announces it (member.joined), then starts reading: messages held until then are from a member now known.
   */
  #attach(connection: Connection, identity: NodeIdentity, protocolVersion: number, gossip: MemberDigest[]): () => void {
    const session: Session = { connection, index: identity.index, instanceId: identity.instanceId, protocolVersion,
      inflight: 0, paused: false };
    this.#sessions.add(session);
    connection.onClose(() => this.#sessions.remove(session));
    return () => {
      this.#membership.join(identity, protocolVersion);
      connection.onMessage((raw) => this.#onMessage(session, raw));
      this.#discovery.learn(gossip);
    };
  }

  #onMessage(session: Session, raw: unknown): void {
    let message;
    try {
      message = parseMessage(raw);
    } catch (error) {
      return session.connection.destroy(error as ClusterError);
    }
    // Unknown types are a newer peer's business; frames of a departed or failed instance are stale.
    if (!message || !this.#membership.heard(session.index, session.instanceId)) return;
    switch (message.type) {
      case 'heartbeat': return this.#discovery.learn(message.members);
      case 'leave': {
        this.#membership.leave(session.index, session.instanceId);
        return;
      }
      case 'request': return this.#serve(session, message);
      case 'response': return this.#rpc.receive(session.index, message);
      default: return; // a repeated hello or welcome changes nothing
    }
  }

  #serve(session: Session, request: RequestMessage): void {
    const member = this.#membership.get(session.index)!;
    const from: RpcCaller = { index: member.index, address: member.address, role: member.role,
      instanceId: member.instanceId };
    serveRequest(session, this.#sessions, () => this.#rpc.answer(request, from));
  }

  #sendTo(index: number, message: Omit<RequestMessage, 'v'>): void {
    const member = this.#membership.get(index);
    const session = member && this.#sessions.pick(index, member.instanceId);
    if (!session) throw new ClusterError('CLUSTER_UNREACHABLE', `no open connection to member ${index}`, { member: index });
    session.connection.send({ v: session.protocolVersion, ...message });
  }

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = this.#clock.setTimeout(() => {
      if (this.#phase === 'stopped') return;
      const members = this.#membership.digest();
      for (const member of this.#membership.alive()) {
        const session = this.#sessions.pick(member.index, member.instanceId);
        if (session) sendOrDrop(session.connection, { v: session.protocolVersion, type: 'heartbeat', members });
      }
      for (const s of this.#sessions.all()) if (s.paused) this.#membership.heard(s.index, s.instanceId);
      this.#membership.detectFailures();
      this.#scheduleHeartbeat();
    }, this.#config.heartbeatIntervalMs);
  }

  #onMembershipEvent(event: MembershipEvent, member: MemberInfo): void {
    if (event !== 'member.joined') {
      const reason = event === 'member.left' ? 'it left the cluster' : 'it failed';
      // Its connections are stale: drop them so a comeback starts from a fresh hello, and fail its calls now.
      for (const s of this.#sessions.of(member.index, member.instanceId)) {
        s.connection.destroy(new ClusterError('CLUSTER_UNREACHABLE', `member ${member.index}: ${reason}`));
      }
      this.#rpc.memberGone(member.index, reason);
      if (event === 'member.left' && !this.#initialHosts.includes(member.address)) this.#discovery.forget(member.address);
    }
    this.#events.emit(event, member);
    this.#updateStatus();
  }

  #counts(): { configured: number; reachable: number } {
    return countMembers({ selfAddress: this.address, initialHosts: this.#initialHosts, links: this.#discovery.links,
      alive: this.#membership.alive() });
  }

  #quorum(): QuorumState {
    const { configured, reachable } = this.#counts();
    // While starting the node does not yet know who is out there, so it cannot promise anything either.
    return quorumState({ serving: this.#phase === 'running', configuredMembers: configured, reachableMembers: reachable });
  }

  #updateStatus(): void {
    const previous = this.#lastState;
    this.#lastState = this.#quorum();
    if (this.#lastState !== previous) this.#events.emit('status.changed', { previous, current: this.#lastState });
  }

  /** A rejection for RPCs made before start() or after stop(); undefined while the node can make them. */
  #notServing(): Promise<never> | undefined {
    if (this.#phase === 'running' || this.#phase === 'starting') return undefined;
    return Promise.reject(new ClusterError('CLUSTER_STOPPED',
      this.#phase === 'new' ? 'the node is not started' : 'the node has been stopped'));
  }

  #caller(): RpcCaller {
    return { index: this.#config.index, address: this.address, role: this.#config.role, instanceId: this.instanceId };
  }
}

