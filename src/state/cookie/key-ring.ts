// The AES-256-GCM keys of cookie-mode login-transaction state, the same on every member.
//
// * The newest active key encrypts; it and the `keysKept` keys before it decrypt, so a transaction started just
//   before a rotation still finishes. Older keys are forgotten: their cookies are refused.
// * A static key from configuration (state.cookie.staticKey) is the only key: no rotation, no traffic.
// * Otherwise the OLDEST live member (earliest start, ties to the lower index) generates a key every rotationMs and
//   broadcasts the whole ring (`interRequest.keys.add`), so a member that missed one broadcast is healed by the next.
//   Start times are exchanged with `interRequest.keys.info`, which also carries both sides' rings: a member that
//   starts or joins merges the ring of every alive member (sync), and they merge its own. When the oldest member
//   fails or leaves, the next oldest takes over at its next tick, which the membership event brings forward.
// * A new key only starts encrypting `activationMs` after its creation, by which time the broadcast has reached
//   every member (it is bounded by the RPC deadline): a browser sent to another node right after a rotation still
//   finds the key its cookie names.
// * Two members that both believe they are the oldest (a start-up race, a lost info call) both rotate: harmless,
//   rings merge by kid and every member orders keys the same way (createdAt, then kid).
// Keys only travel over the back channel (TLS with the cluster secret); logs name kids, never material.
import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { ClusterRpc, MemberInfo, RpcCaller } from '../../cluster/types.js';
import { isClusterError } from '../../cluster/errors.js';
import { systemClock, type Clock } from '../types.js';
import { KID_PATTERN } from './cookie-codec.js';

export const INFO_METHOD = 'interRequest.keys.info';
export const ADD_METHOD = 'interRequest.keys.add';

export interface CookieKey {
  readonly kid: string;
  /** A KeyObject, not a Buffer: printing or logging one shows its size, never its bytes. */
  readonly key: KeyObject;
  /** Epoch ms on the clock of the member that generated it. */
  readonly createdAt: number;
}

export interface KeyRingLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface KeyRingOptions {
  /** The cluster; absent on a standalone node, which rotates for itself. */
  rpc?: ClusterRpc;
  rotationMs: number;
  /** Keys kept for decryption besides the one that encrypts. */
  keysKept: number;
  /** base64url of 32 bytes: the only key, never rotated. Empty or absent: rotated keys. */
  staticKey?: string;
  /** Deadline of each back-channel call. @default 2,000 */
  rpcTimeoutMs?: number;
  /** Delay before a new key encrypts. @default min(rpcTimeoutMs, rotationMs / 10) */
  activationMs?: number;
  /** When this member started, for choosing the oldest. @default clock.now() at construction */
  startedAt?: number;
  clock?: Clock;
  logger?: KeyRingLogger;
}

interface WireKey { kid: string; material: string; createdAt: number }
interface InfoMessage { startedAt: number; keys: WireKey[] }

const KEY_BYTES = 32;
/** base64url of exactly 32 bytes: 43 characters, the last carrying 4 bits and 2 zero padding bits. */
const MATERIAL_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** Bounds a merge from the wire: a ring is keysKept + 1 (at most 21) plus a few not yet active. */
const MAX_WIRE_KEYS = 64;
/** setTimeout's ceiling; a longer rotation just re-checks once the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const noLogger: KeyRingLogger = { info: () => undefined, warn: () => undefined };

export class KeyRingConfigError extends Error {
  readonly code = 'STATE_CONFIG';
}

export class KeyRing {
  readonly startedAt: number;
  readonly isStatic: boolean;
  readonly #rpc: ClusterRpc | undefined;
  readonly #rotationMs: number;
  readonly #keysKept: number;
  readonly #rpcTimeoutMs: number;
  readonly #activationMs: number;
  readonly #clock: Clock;
  readonly #logger: KeyRingLogger;
  /** Newest first (createdAt, then kid, descending): every member orders the same keys the same way. */
  #keys: CookieKey[] = [];
  /** Start time of each alive member that runs a key ring, per instance (a restarted member is a new instance). */
  readonly #peers = new Map<number, { instanceId: string; startedAt: number }>();
  readonly #cleanup: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  /** Rotation runs from the first sync on: before it this member does not know the ring, nor who is oldest. */
  #running = false;
  #closed = false;

  constructor(options: KeyRingOptions) {
    if (!(options.rotationMs > 0) || !Number.isSafeInteger(options.keysKept) || options.keysKept < 0) {
      throw new RangeError('rotationMs must be positive and keysKept a non-negative integer');
    }
    this.#rpc = options.rpc;
    this.#rotationMs = options.rotationMs;
    this.#keysKept = options.keysKept;
    this.#rpcTimeoutMs = options.rpcTimeoutMs ?? 2_000;
    this.#activationMs = options.activationMs ?? Math.min(this.#rpcTimeoutMs, Math.floor(options.rotationMs / 10));
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noLogger;
    this.startedAt = options.startedAt ?? this.#clock.now();
    this.isStatic = Boolean(options.staticKey);
    if (options.staticKey) {
      this.#keys = [staticKeyOf(options.staticKey)];
      return;
    }
    const rpc = this.#rpc;
    if (!rpc) return;
    this.#cleanup.push(rpc.handle(INFO_METHOD, (payload, from) => this.#onInfo(payload, from)));
    this.#cleanup.push(rpc.handle(ADD_METHOD, (payload) => {
      this.#merge(fromWire((payload as { keys?: unknown } | null)?.keys));
      return { keys: this.#keys.length };
    }));
    const joined = (member: MemberInfo) => void this.#exchange(member);
    const gone = (member: MemberInfo) => {
      this.#peers.delete(member.index);
      // The oldest may be the one that went: whoever is oldest now must not wait a whole period to notice.
      void this.tick();
    };
    rpc.on('member.joined', joined).on('member.failed', gone).on('member.left', gone);
    this.#cleanup.push(() => rpc.off('member.joined', joined).off('member.failed', gone).off('member.left', gone));
  }

  /** The key that encrypts now; generates the first one if this member has none yet (a bootstrap). */
  current(): CookieKey {
    if (this.#keys.length === 0) this.#bootstrap();
    return this.#view().encrypt!;
  }

  /** The key named `kid` if it may still decrypt. */
  find(kid: string): CookieKey | undefined {
    return this.#view().decrypt.find((k) => k.kid === kid);
  }

  /** kids that decrypt, newest first (kids are labels, not secrets: fine for status and tests). */
  kids(): string[] {
    return this.#view().decrypt.map((k) => k.kid);
  }

  /**
   * Merges the ring of every alive member (each call bounded by rpcTimeoutMs), generates the first key if nobody
   * had one, and starts the rotation timer. Call once the cluster node has started, before serving.
   */
  async sync(): Promise<{ completed: boolean; records: number; ms: number }> {
    const started = performance.now();
    let completed = true;
    if (!this.isStatic && this.#rpc) {
      const results = await Promise.all(this.#rpc.aliveMembers().map((m) => this.#exchange(m)));
      completed = results.every(Boolean);
    }
    if (this.#keys.length === 0) this.#bootstrap();
    this.#running = true;
    this.#schedule();
    const ms = Math.round(performance.now() - started);
    this.#logger.info({ event: 'interRequest.keys_synced', startedAt: this.startedAt, keys: this.#keys.length, completed, ms },
      'cookie-mode keys synchronised');
    return { completed, records: this.#keys.length, ms };
  }

  /** Generates a key now and distributes it, whoever is oldest (tests, operators). Refused with a static key. */
  async rotateNow(): Promise<CookieKey> {
    if (this.isStatic) throw new KeyRingConfigError('the cookie-mode key is static (state.cookie.staticKey): it does not rotate');
    return this.#rotate('requested');
  }

  /**
   * One rotation check, as the timer runs it (from the first sync on): rotates when the newest key is due and this
   * member is the oldest.
   */
  tick(): Promise<void> {
    if (this.#closed || this.isStatic || !this.#running) return Promise.resolve();
    this.#ticking ??= this.#check().catch((error: unknown) => {
      this.#logger.warn({ event: 'interRequest.key_rotation_failed', reason: (error as Error).message }, 'key rotation check failed');
    }).finally(() => {
      this.#ticking = undefined;
      this.#schedule();
    });
    return this.#ticking;
  }

  /** Unregisters the RPC handlers and listeners and stops the timer. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  async #check(): Promise<void> {
    const newest = this.#keys[0];
    if (newest && this.#clock.now() - newest.createdAt < this.#rotationMs) return;
    if (await this.#isOldest()) await this.#rotate('scheduled');
  }

  /** Oldest among this member and the alive members that run a key ring; start times are asked for when unknown. */
  async #isOldest(): Promise<boolean> {
    const rpc = this.#rpc;
    if (!rpc) return true;
    const alive = rpc.aliveMembers();
    await Promise.all(alive.filter((m) => this.#peers.get(m.index)?.instanceId !== m.instanceId).map((m) => this.#exchange(m)));
    let oldest = { index: rpc.selfIndex, startedAt: this.startedAt };
    for (const member of alive) {
      const peer = this.#peers.get(member.index);
      if (!peer || peer.instanceId !== member.instanceId) continue; // no key ring there, or it did not answer
      if (peer.startedAt < oldest.startedAt || (peer.startedAt === oldest.startedAt && member.index < oldest.index)) {
        oldest = { index: member.index, startedAt: peer.startedAt };
      }
    }
    return oldest.index === rpc.selfIndex;
  }

  async #rotate(reason: 'scheduled' | 'requested'): Promise<CookieKey> {
    // Strictly after the newest key, so a rotation within the same millisecond still yields the newest key.
    const key = generateKey(Math.max(this.#clock.now(), (this.#keys[0]?.createdAt ?? 0) + 1));
    this.#merge([key]);
    this.#logger.info({ event: 'interRequest.key_rotated', kid: key.kid, reason }, 'cookie-mode key rotated');
    await this.#distribute();
    return key;
  }

  #bootstrap(): void {
    const key = generateKey(this.#clock.now());
    this.#merge([key]);
    this.#logger.info({ event: 'interRequest.key_rotated', kid: key.kid, reason: 'bootstrap' }, 'first cookie-mode key');
    void this.#distribute();
  }

  /** Sends the whole ring to every alive member; one that misses it gets it with the next rotation or its own sync. */
  async #distribute(): Promise<void> {
    if (!this.#rpc) return;
    let missed: number[];
    try {
      const results = await this.#rpc.broadcast(ADD_METHOD, { keys: this.#keys.map(toWire) }, { timeoutMs: this.#rpcTimeoutMs });
      missed = results.filter((r) => !r.ok && r.error.code !== 'CLUSTER_NO_HANDLER').map((r) => r.index);
    } catch {
      // broadcast() never rejects by contract; a node being stopped is still no reason for an unhandled rejection.
      missed = this.#rpc.aliveMembers().map((m) => m.index);
    }
    if (missed.length > 0) {
      this.#logger.warn({ event: 'interRequest.key_distribution_failed', members: missed }, 'members did not take the new cookie-mode key');
    }
  }

  /** info with one member: both sides merge the other's ring, and we learn its start time. False when it failed. */
  async #exchange(member: MemberInfo): Promise<boolean> {
    if (this.#closed || !this.#rpc) return true;
    try {
      const answer = await this.#rpc.call<Partial<InfoMessage> | null>(member.index, INFO_METHOD, this.#info(),
        { timeoutMs: this.#rpcTimeoutMs });
      if (typeof answer?.startedAt === 'number' && Number.isFinite(answer.startedAt)) {
        this.#peers.set(member.index, { instanceId: member.instanceId, startedAt: answer.startedAt });
      }
      this.#merge(fromWire(answer?.keys));
      return true;
    } catch (error) {
      // No handler: that member does not use cookie mode (or has not built its ring yet; it asks us when it does).
      return isClusterError(error, 'CLUSTER_NO_HANDLER');
    }
  }

  #onInfo(payload: unknown, from: RpcCaller): InfoMessage {
    const message = payload as Partial<InfoMessage> | null;
    if (typeof message?.startedAt === 'number' && Number.isFinite(message.startedAt) && from.index !== this.#rpc?.selfIndex) {
      this.#peers.set(from.index, { instanceId: from.instanceId, startedAt: message.startedAt });
    }
    this.#merge(fromWire(message?.keys));
    return this.#info();
  }

  #info(): InfoMessage {
    return { startedAt: this.startedAt, keys: this.#keys.map(toWire) };
  }

  /** Adds keys by kid (a kid already held keeps its key), orders them, and forgets those that may not decrypt. */
  #merge(keys: CookieKey[]): void {
    if (this.isStatic || keys.length === 0) return;
    const before = this.#keys[0]?.kid;
    const byKid = new Map(this.#keys.map((k) => [k.kid, k]));
    for (const key of keys) if (!byKid.has(key.kid)) byKid.set(key.kid, key);
    this.#keys = [...byKid.values()].sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0));
    this.#keys = this.#view().decrypt;
    if (this.#keys[0]?.kid !== before) this.#schedule();
  }

  /** Which key encrypts (the newest one active) and which decrypt (it, the newer ones, and keysKept older ones). */
  #view(): { encrypt: CookieKey | undefined; decrypt: CookieKey[] } {
    const keys = this.#keys;
    const activeBefore = this.#clock.now() - this.#activationMs;
    let active = keys.findIndex((k) => k.createdAt <= activeBefore);
    // None active yet (the first keys of a cluster): the oldest of them is the one most members already hold.
    if (active < 0) active = keys.length - 1;
    return { encrypt: keys[active], decrypt: keys.slice(0, active + this.#keysKept + 1) };
  }

  /** Next tick when the newest key falls due; when it is overdue (the oldest member should be rotating), soon. */
  #schedule(): void {
    if (this.#closed || this.isStatic || !this.#running) return;
    clearTimeout(this.#timer);
    const newest = this.#keys[0];
    const due = newest ? newest.createdAt + this.#rotationMs - this.#clock.now() : 0;
    const retry = Math.max(1_000, Math.min(this.#rotationMs / 10, 30_000));
    this.#timer = setTimeout(() => void this.tick(), Math.min(due > 0 ? due : retry, MAX_TIMER_MS));
    this.#timer.unref();
  }
}

function generateKey(createdAt: number): CookieKey {
  return { kid: randomBytes(6).toString('base64url'), key: createSecretKey(randomBytes(KEY_BYTES)), createdAt };
}

/** The configured static key; its kid is derived from it, so cookies sealed under a replaced static key are refused. */
export function staticKeyOf(text: string): CookieKey {
  const trimmed = text.trim().replace(/=$/, '');
  if (!MATERIAL_PATTERN.test(trimmed)) {
    throw new KeyRingConfigError('state.cookie.staticKey must be 32 random bytes in base64url (43 characters), '
      + 'e.g. the output of: node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64url\'))"');
  }
  const bytes = Buffer.from(trimmed, 'base64url');
  const kid = `s${createHash('sha256').update('cohort-tx-static-kid\0').update(bytes).digest('base64url').slice(0, 11)}`;
  return { kid, key: createSecretKey(bytes), createdAt: 0 };
}

function toWire(key: CookieKey): WireKey {
  // `material`, like every key-bearing field, is on the logger's redaction list should a payload ever be logged.
  return { kid: key.kid, material: key.key.export().toString('base64url'), createdAt: key.createdAt };
}

/** Keys from a peer; anything malformed is dropped, never trusted. */
function fromWire(value: unknown): CookieKey[] {
  if (!Array.isArray(value)) return [];
  const keys: CookieKey[] = [];
  for (const item of value.slice(0, MAX_WIRE_KEYS) as Array<Partial<WireKey> | null>) {
    if (typeof item?.kid !== 'string' || !KID_PATTERN.test(item.kid)) continue;
    if (typeof item.material !== 'string' || !MATERIAL_PATTERN.test(item.material)) continue;
    if (typeof item.createdAt !== 'number' || !Number.isSafeInteger(item.createdAt) || item.createdAt < 0) continue;
    keys.push({ kid: item.kid, key: createSecretKey(Buffer.from(item.material, 'base64url')), createdAt: item.createdAt });
  }
  return keys;
}
