// The back channel's messages. Every message is a JSON object { v, type, ... }.
// Compatibility rules, so a cluster keeps working through a rolling upgrade:
// - The hello, welcome and refuse are frozen: every version sends and reads their fields the same way, so a node of
//   any version learns which protocol versions the other speaks. The connection then uses the highest common one.
// - Unknown message types and unknown fields are ignored: a newer node may add them without a version bump.
// - A change an older node must understand to stay correct needs a new version; a peer whose *minimum* is above our
//   maximum (or the reverse) is refused with a reason that says so.
import type { ClusterRole } from './config.js';
import { ClusterError } from './errors.js';

/** Highest protocol version this node speaks. */
export const PROTOCOL_VERSION = 1;
/** Lowest protocol version this node still speaks. */
export const MIN_PROTOCOL_VERSION = 1;

export interface VersionRange {
  min: number;
  max: number;
}

export const SUPPORTED_PROTOCOL: Readonly<VersionRange> = Object.freeze({ min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION });

/** Who a node is, as it introduces itself. instanceId is fresh at every start, so a restart is a new identity. */
export interface NodeIdentity {
  cluster: string;
  index: number;
  role: ClusterRole;
  /** host:port others dial. */
  address: string;
  instanceId: string;
  /** Software version (src/version.ts). */
  version: string;
}

/** A member as gossiped: enough to dial it and to tell a restart from the same instance. */
export interface MemberDigest {
  index: number;
  instanceId: string;
  address: string;
  role: ClusterRole;
}

export interface HelloMessage extends NodeIdentity {
  v: number;
  type: 'hello';
  protocol: VersionRange;
}

/** The acceptor's answer to a hello; its `v` is the negotiated version both sides now use. */
export interface WelcomeMessage extends NodeIdentity {
  v: number;
  type: 'welcome';
  protocol: VersionRange;
  members: MemberDigest[];
}

export type RefusalCode = 'CLUSTER_REFUSED' | 'CLUSTER_PROTOCOL';

export interface RefuseMessage {
  v: number;
  type: 'refuse';
  code: RefusalCode;
  reason: string;
}

export interface HeartbeatMessage {
  v: number;
  type: 'heartbeat';
  /** The sender's alive members: how members learn of each other beyond their initialHosts. */
  members: MemberDigest[];
}

export interface LeaveMessage {
  v: number;
  type: 'leave';
}

export interface RequestMessage {
  v: number;
  type: 'request';
  /** Unique among the caller's outstanding requests. */
  id: number;
  method: string;
  payload?: unknown;
  /** Milliseconds the caller will wait: the callee drops an answer that would arrive too late. */
  timeoutMs: number;
}

export interface WireError {
  code: string;
  message: string;
}

export interface ResponseMessage {
  v: number;
  type: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: WireError;
}

export type Message = HelloMessage | WelcomeMessage | RefuseMessage | HeartbeatMessage | LeaveMessage | RequestMessage
  | ResponseMessage;

/** Limits on the text fields, so a peer cannot make one field carry a whole frame's worth of junk into logs. */
const MAX_SHORT_TEXT = 256;
const MAX_REASON_TEXT = 1_024;
const MAX_GOSSIP_MEMBERS = 65_536;

/** The highest version in both ranges, or a CLUSTER_PROTOCOL error whose message says who speaks what. */
export function negotiateVersion(local: VersionRange, remote: VersionRange): number | ClusterError {
  const highest = Math.min(local.max, remote.max);
  if (highest < Math.max(local.min, remote.min)) {
    return new ClusterError('CLUSTER_PROTOCOL', `no common protocol version: this node speaks ${local.min}..${local.max}, `
      + `the peer requires ${remote.min}..${remote.max}`);
  }
  return highest;
}

/**
 * Validates an incoming message. Returns undefined for a message type this version does not know (to be ignored);
 * throws CLUSTER_PROTOCOL for a known type with missing or mistyped fields. Unknown fields are dropped.
 */
export function parseMessage(raw: unknown): Message | undefined {
  if (!isObject(raw)) throw protocolError('a message must be a JSON object');
  const { type } = raw;
  if (typeof type !== 'string') throw protocolError('a message needs a string type');
  const v = integer(raw, 'v', 1, 65_535);
  switch (type) {
    case 'hello':
      return { v, type, ...identity(raw), protocol: versionRange(raw) };
    case 'welcome':
      return { v, type, ...identity(raw), protocol: versionRange(raw), members: digests(raw.members) };
    case 'refuse': {
      const code = raw.code === 'CLUSTER_PROTOCOL' ? 'CLUSTER_PROTOCOL' : 'CLUSTER_REFUSED';
      return { v, type, code, reason: text(raw, 'reason', MAX_REASON_TEXT) };
    }
    case 'heartbeat':
      return { v, type, members: digests(raw.members) };
    case 'leave':
      return { v, type };
    case 'request': {
      const message: RequestMessage = {
        v, type, id: integer(raw, 'id', 0, Number.MAX_SAFE_INTEGER), method: text(raw, 'method', MAX_SHORT_TEXT),
        timeoutMs: integer(raw, 'timeoutMs', 0, 24 * 3600 * 1000),
      };
      if ('payload' in raw) message.payload = raw.payload;
      return message;
    }
    case 'response': {
      const id = integer(raw, 'id', 0, Number.MAX_SAFE_INTEGER);
      if (raw.ok === true) return { v, type, id, ok: true, result: raw.result };
      if (raw.ok !== false || !isObject(raw.error)) throw protocolError('a response needs ok: true or an error');
      return {
        v, type, id, ok: false,
        error: { code: text(raw.error, 'code', MAX_SHORT_TEXT), message: text(raw.error, 'message', MAX_REASON_TEXT) },
      };
    }
    default:
      return undefined;
  }
}

function identity(raw: Record<string, unknown>): NodeIdentity {
  return {
    cluster: text(raw, 'cluster', MAX_SHORT_TEXT),
    index: integer(raw, 'index', 0, 65_535),
    role: role(raw.role),
    address: text(raw, 'address', MAX_SHORT_TEXT),
    instanceId: text(raw, 'instanceId', MAX_SHORT_TEXT),
    version: text(raw, 'version', MAX_SHORT_TEXT),
  };
}

function versionRange(raw: Record<string, unknown>): VersionRange {
  const range = raw.protocol;
  if (!isObject(range)) throw protocolError('protocol must be { min, max }');
  const min = integer(range, 'min', 1, 65_535);
  const max = integer(range, 'max', min, 65_535);
  return { min, max };
}

function digests(raw: unknown): MemberDigest[] {
  if (!Array.isArray(raw) || raw.length > MAX_GOSSIP_MEMBERS) throw protocolError('members must be a list');
  return raw.map((entry) => {
    if (!isObject(entry)) throw protocolError('a member entry must be an object');
    return {
      index: integer(entry, 'index', 0, 65_535),
      instanceId: text(entry, 'instanceId', MAX_SHORT_TEXT),
      address: text(entry, 'address', MAX_SHORT_TEXT),
      role: role(entry.role),
    };
  });
}

function role(raw: unknown): ClusterRole {
  // A role this version does not know (a future one) is treated as an engine: it still counts and answers RPCs.
  if (typeof raw !== 'string') throw protocolError('role must be a string');
  return raw === 'console' ? 'console' : 'engine';
}

function integer(raw: Record<string, unknown>, field: string, min: number, max: number): number {
  const value = raw[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw protocolError(`${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function text(raw: Record<string, unknown>, field: string, maxLength: number): string {
  const value = raw[field];
  if (typeof value !== 'string' || value.length > maxLength) {
    throw protocolError(`${field} must be a string of at most ${maxLength} characters`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function protocolError(problem: string): ClusterError {
  return new ClusterError('CLUSTER_PROTOCOL', `malformed message: ${problem}`);
}
