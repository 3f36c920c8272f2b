// Failed sign-in attempts per key (a user, a source address), counted cluster-wide: the acting owner of a key
// (rendezvous hashing: nobody in the cluster created these keys) keeps its sliding window, every record() and
// reset() goes there, and the window is copied to failover peers so a takeover keeps counting.
// Same window rules as the local backend: at most maxFailuresPerKey timestamps, pruned by the widest window asked.
import type { LoginFailureCounter } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber } from './values.js';
import { isObject, PeerProtocolError } from './wire.js';

interface FailureWindow {
  /** Failure times, epoch ms, in the order recorded. */
  times: number[];
  /** Widest window any caller recorded with, so a narrower caller never prunes what a wider one still counts. */
  windowMs: number;
}

function isFailureWindow(value: unknown): value is FailureWindow {
  return isObject(value) && Array.isArray(value.times) && value.times.every(isFiniteNumber) && isFiniteNumber(value.windowMs);
}

function isWindow(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

export class PeerLoginFailureCounter implements LoginFailureCounter {
  readonly store: PeerRecordStore<FailureWindow>;
  readonly sync: RecordSync<FailureWindow>;
  readonly #record;
  readonly #reset;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<FailureWindow>({
      service: 'loginFailures', context, maxEntries: context.limits.maxFailureKeys, policy: 'lru', ownerBased: false,
      isValue: isFailureWindow,
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    const maxPerKey = context.maxFailuresPerKey;
    this.#record = store.mutation('record', {
      parse: (args) => ({ windowMs: argument(args, 'windowMs', isWindow) }),
      result: (value) => {
        if (!isFiniteNumber(value)) throw new PeerProtocolError('record answered a non-number');
        return value;
      },
      mutate: (current, { windowMs }, { now }) => {
        const widest = Math.max(current?.value?.windowMs ?? 0, windowMs);
        const times = (current?.value?.times ?? []).filter((t) => t > now - widest);
        times.push(now);
        if (times.length > maxPerKey) times.splice(0, times.length - maxPerKey);
        // Once the widest window has passed since the last failure, nothing in the key can count any more.
        return { change: { set: { times, windowMs: widest }, expiresAt: now + widest }, result: countSince(times, now - windowMs) };
      },
    });
    this.#reset = store.mutation('reset', { parse: () => ({}), result: () => null, mutate: () => ({ change: 'delete', result: null }) });
  }

  async record(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    return this.#record(key, { windowMs });
  }

  async count(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    const current = (await this.store.read(key))?.value;
    return current ? countSince(current.times, this.store.context.clock.now() - windowMs) : 0;
  }

  async reset(key: string): Promise<void> {
    await this.#reset(key, {});
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }
}

/** Failures strictly after `since`; a linear scan, so a clock that steps back cannot break it. */
function countSince(times: number[], since: number): number {
  let n = 0;
  for (const t of times) if (t > since) n++;
  return n;
}

function requireWindow(windowMs: number): void {
  if (!isWindow(windowMs)) throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
}
