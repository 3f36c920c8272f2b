import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap, type BoundedMapOptions, type RemovalReason } from './bounded-map.js';
import { ManualClock } from '../manual-clock.js';

type Removal = [key: string, value: number, reason: RemovalReason];

function make(options: Partial<BoundedMapOptions<string, number>> = {}) {
  const clock = new ManualClock();
  const removed: Removal[] = [];
  const map = new BoundedMap<string, number>({
    maxEntries: 3,
    policy: 'lru',
    clock,
    sweepIntervalMs: 0,
    onRemove: (k, v, reason) => removed.push([k, v, reason]),
    ...options,
  });
  return { map, clock, removed, at: (ms: number) => clock.now() + ms };
}

const keys = (map: BoundedMap<string, number>) => Array.from(map.entries(), ([k]) => k);

describe('BoundedMap', () => {
  it('stores, reads and deletes', () => {
    const { map, at, removed } = make();
    assert.equal(map.set('a', 1, at(100)), true);
    assert.equal(map.get('a'), 1);
    assert.equal(map.peek('a'), 1);
    assert.equal(map.has('a'), true);
    assert.equal(map.expiresAt('a'), at(100));
    assert.equal(map.get('b'), undefined);
    assert.equal(map.delete('a'), true);
    assert.equal(map.delete('a'), false);
    assert.equal(map.get('a'), undefined);
    assert.deepEqual(removed, [['a', 1, 'deleted']]);
  });

  it('never returns an entry at or after its expiry, and reports it removed as expired', () => {
    const { map, clock, at, removed } = make();
    map.set('a', 1, at(100));
    map.set('b', 2, at(100));
    map.set('c', 3, at(100));
    clock.advance(99);
    assert.equal(map.get('a'), 1);
    clock.advance(1);
    assert.equal(map.get('a'), undefined);
    assert.equal(map.peek('b'), undefined);
    assert.equal(map.has('c'), false);
    assert.deepEqual(removed.map(([k, , r]) => [k, r]), [['a', 'expired'], ['b', 'expired'], ['c', 'expired']]);
    assert.equal(map.size, 0);
  });

  it('skips expired entries in entries() and liveSize() without removing them', () => {
    const { map, clock, at } = make();
    map.set('a', 1, at(50));
    map.set('b', 2, at(100));
    clock.advance(60);
    assert.deepEqual(Array.from(map.entries()), [['b', 2, at(40)]]);
    assert.equal(map.liveSize(), 1);
    assert.equal(map.size, 2);
  });

  it('does not store a value whose expiry has passed, and drops the previous one', () => {
    const { map, at, removed } = make();
    map.set('a', 1, at(100));
    assert.equal(map.set('a', 2, at(0)), false);
    assert.equal(map.set('b', 2, at(-1)), false);
    assert.equal(map.has('a'), false);
    assert.equal(map.size, 0);
    assert.deepEqual(removed, [['a', 1, 'expired']]);
  });

  it('treats a set over an expired entry as a fresh entry, not a replacement', () => {
    const { map, clock, at, removed } = make();
    map.set('a', 1, at(10));
    clock.advance(20);
    map.set('a', 2, at(10));
    assert.deepEqual(removed, [['a', 1, 'expired']]);
    assert.equal(map.get('a'), 2);
  });

  it('rejects a NaN expiry and bad options', () => {
    const { map } = make();
    assert.throws(() => map.set('a', 1, NaN), RangeError);
    assert.throws(() => make({ maxEntries: 0 }), RangeError);
    assert.throws(() => make({ maxEntries: 1.5 }), RangeError);
    assert.throws(() => make({ sweepBatch: 0 }), RangeError);
    assert.throws(() => make({ sweepIntervalMs: -1 }), RangeError);
  });

  it('lru: evicts the least recently read or written entry', () => {
    const { map, at, removed } = make({ policy: 'lru' });
    map.set('a', 1, at(100));
    map.set('b', 2, at(100));
    map.set('c', 3, at(100));
    map.get('a');
    map.set('b', 22, at(100));
    map.set('d', 4, at(100));
    assert.deepEqual(keys(map), ['a', 'b', 'd']);
    assert.deepEqual(removed, [['b', 2, 'replaced'], ['c', 3, 'evicted']]);
  });

  it('lru: peek and entries() do not count as use', () => {
    const { map, at } = make({ policy: 'lru' });
    map.set('a', 1, at(100));
    map.set('b', 2, at(100));
    map.set('c', 3, at(100));
    map.peek('a');
    map.has('a');
    [...map.entries()];
    map.set('d', 4, at(100));
    assert.deepEqual(keys(map), ['b', 'c', 'd']);
  });

  it('fifo: evicts the first inserted, ignoring reads and overwrites', () => {
    const { map, at, removed } = make({ policy: 'fifo' });
    map.set('a', 1, at(100));
    map.set('b', 2, at(100));
    map.set('c', 3, at(100));
    map.get('a');
    map.set('a', 11, at(100));
    map.set('d', 4, at(100));
    assert.deepEqual(keys(map), ['b', 'c', 'd']);
    assert.deepEqual(removed, [['a', 1, 'replaced'], ['a', 11, 'evicted']]);
  });

  it('reports an expired victim of eviction as expired', () => {
    const { map, clock, at, removed } = make({ maxEntries: 1 });
    map.set('a', 1, at(10));
    clock.advance(10);
    map.set('b', 2, at(10));
    assert.deepEqual(removed, [['a', 1, 'expired']]);
  });

  it('sweeps a bounded batch per call, resuming where it stopped', () => {
    const { map, clock, at, removed } = make({ maxEntries: 10, sweepBatch: 3 });
    for (let i = 0; i < 7; i++) map.set(`k${i}`, i, at(i % 2 === 0 ? 10 : 1_000));
    clock.advance(10);
    assert.equal(map.sweep(), 2); // k0..k2: k0 and k2 expired
    assert.equal(map.sweep(), 1); // k3..k5: k4
    assert.equal(map.sweep(), 1); // k6, then the end
    assert.equal(map.sweep(), 0); // starts over: k1, k3, k5 are live
    assert.deepEqual(removed.map(([k]) => k), ['k0', 'k2', 'k4', 'k6']);
    assert.deepEqual(keys(map), ['k1', 'k3', 'k5']);
  });

  it('sweep sees entries added after a pass ended', () => {
    const { map, clock, at } = make({ maxEntries: 10 });
    map.set('a', 1, at(10));
    assert.equal(map.sweep(), 0);
    map.set('b', 2, at(10));
    clock.advance(10);
    assert.equal(map.sweep(), 2);
    assert.equal(map.size, 0);
  });

  it('sweeps on its own timer until closed', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { map, clock, at, removed } = make({ sweepIntervalMs: 1_000 });
    map.set('a', 1, at(10));
    clock.advance(10);
    t.mock.timers.tick(999);
    assert.equal(map.size, 1, 'not before the interval');
    t.mock.timers.tick(1);
    assert.deepEqual(removed, [['a', 1, 'expired']]);
    map.close();
    map.set('b', 2, at(10));
    clock.advance(10);
    t.mock.timers.tick(5_000);
    assert.equal(map.size, 1, 'no sweep after close');
  });
});
