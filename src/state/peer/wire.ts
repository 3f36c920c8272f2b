// The peer backend's RPC messages: method names, the versioned payload envelope, field readers for what a peer
// sends, and the mapping of cluster failures to StateUnavailableError.
//
// Every payload is an object { v: 1, ... }. Compatibility rules for rolling upgrades: a receiver reads the fields it
// knows and ignores the rest, so a newer node may add fields without changing v; a change an older node must
// understand to stay correct gets a new method name. Payloads from peers are checked field by field: the back
// channel is authenticated, but a bug on one node must not corrupt another node's store.
import { isClusterError } from '../../cluster/errors.js';
import { StateUnavailableError, type StateServiceName } from '../types.js';
import type { Entry, Version } from './version.js';

export const WIRE_VERSION = 1;

/** Broadcast by a node once its catch-up is done: from then on it may act as owner. */
export const READY_METHOD = 'state.ready';

/** RPC method of one operation of one service, e.g. state.sessions.put. */
export function methodName(service: StateServiceName, op: string): string {
  return `state.${service}.${op}`;
}

/** A peer sent something this node cannot read; reported to the caller as code STATE_PROTOCOL. */
export class PeerProtocolError extends Error {
  readonly code = 'STATE_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'PeerProtocolError';
  }
}

export type Fields = Record<string, unknown>;

/** The payload's fields, after checking the envelope. */
export function envelope(payload: unknown): Fields {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new PeerProtocolError('payload must be an object');
  }
  const v = (payload as Fields).v;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < WIRE_VERSION) {
    throw new PeerProtocolError(`payload version must be an integer >= ${WIRE_VERSION}`);
  }
  return payload as Fields;
}

export function str(fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new PeerProtocolError(`${name} must be a string`);
  return value;
}

export function optStr(fields: Fields, name: string): string | undefined {
  return fields[name] === undefined || fields[name] === null ? undefined : str(fields, name);
}

export function num(fields: Fields, name: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new PeerProtocolError(`${name} must be a number`);
  return value;
}

export function optNum(fields: Fields, name: string): number | undefined {
  return fields[name] === undefined || fields[name] === null ? undefined : num(fields, name);
}

export function obj(fields: Fields, name: string): Fields {
  const value = fields[name];
  if (!isObject(value)) throw new PeerProtocolError(`${name} must be an object`);
  return value;
}

export function arr(fields: Fields, name: string): unknown[] {
  const value = fields[name];
  if (!Array.isArray(value)) throw new PeerProtocolError(`${name} must be an array`);
  return value;
}

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isVersion(value: unknown): value is Version {
  return isObject(value) && typeof value.ts === 'number' && Number.isFinite(value.ts)
    && typeof value.node === 'number' && Number.isInteger(value.node);
}

/** An entry as a peer sent it, or undefined when it is malformed or its value fails `isValue`. */
export function readEntry<V>(value: unknown, isValue: (v: unknown) => v is V): Entry<V> | undefined {
  if (!isObject(value) || !isVersion(value.version)) return undefined;
  if (typeof value.expiresAt !== 'number' || !Number.isFinite(value.expiresAt)) return undefined;
  if (value.value !== null && !isValue(value.value)) return undefined;
  return { value: value.value as V | null, expiresAt: value.expiresAt, version: value.version };
}

/** Records as sent in apply and pull messages: [key, entry] pairs; malformed pairs are dropped and counted. */
export function readRecords<V>(list: unknown[], isValue: (v: unknown) => v is V): {
  records: Array<[string, Entry<V>]>;
  rejected: number;
} {
  const records: Array<[string, Entry<V>]> = [];
  let rejected = 0;
  for (const item of list) {
    const entry = Array.isArray(item) && typeof item[0] === 'string' ? readEntry(item[1], isValue) : undefined;
    if (entry === undefined) rejected++;
    else records.push([(item as [string])[0], entry]);
  }
  return { records, rejected };
}

/**
 * The StateUnavailableError a failed RPC becomes: the remote's own StateUnavailableError keeps its message, any
 * other cluster failure (unreachable, timeout, stopped, no handler, remote bug) says what could not be done.
 */
export function unavailable(error: unknown, what: string): StateUnavailableError {
  if (error instanceof StateUnavailableError) return error;
  if (isClusterError(error, 'CLUSTER_REMOTE') && error.remoteCode === 'STATE_UNAVAILABLE') {
    return new StateUnavailableError(remoteMessage(error.message), { cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new StateUnavailableError(`${what}: ${reason}`, { cause: error });
}

/** The remote's message without the 'RPC x failed on member n: ' prefix the cluster layer adds. */
function remoteMessage(message: string): string {
  const at = message.indexOf(': ');
  return at === -1 ? message : message.slice(at + 2);
}
