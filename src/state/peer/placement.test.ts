// Placement rules as pure functions: every node must compute the same order, holders and acting owner.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  actingOwnerOf, commonPrefixLength, holdersOf, hostOf, ownerOrder, rendezvousOrder, type Liveness,
} from './placement.js';

const liveness = (alive: number[], notReady: number[] = []): Liveness => ({
  isAlive: (i) => alive.includes(i),
  isReady: (i) => !notReady.includes(i),
});

describe('rendezvous order', () => {
  it('is a deterministic permutation of the group, whatever order the group is given in', () => {
    const order = rendezvousOrder('replay-id-1', [1, 2, 3, 4]);
    assert.deepEqual([...order].sort(), [1, 2, 3, 4]);
    assert.deepEqual(rendezvousOrder('replay-id-1', [4, 3, 2, 1]), order);
    assert.notDeepEqual(
      Array.from({ length: 20 }, (_, i) => rendezvousOrder(`k${i}`, [1, 2, 3, 4])[0]),
      Array.from({ length: 20 }, () => order[0]),
      'different keys land on different members',
    );
  });

  it('spreads keys evenly and moves only the keys of a member that leaves', () => {
    const group = [1, 2, 3, 4];
    const first = new Map<number, number>();
    const keys = Array.from({ length: 4_000 }, (_, i) => `key-${i}`);
    for (const key of keys) {
      const top = rendezvousOrder(key, group)[0]!;
      first.set(top, (first.get(top) ?? 0) + 1);
    }
    for (const index of group) assert.ok(first.get(index)! > 800 && first.get(index)! < 1_200, `member ${index}: ${first.get(index)}`);
    for (const key of keys) {
      const before = rendezvousOrder(key, group);
      const after = rendezvousOrder(key, [1, 2, 4]);
      assert.deepEqual(after, before.filter((i) => i !== 3), 'removing a member keeps the others in their order');
    }
  });
});

describe('owner order', () => {
  it('parses hosts and measures shared prefixes', () => {
    assert.equal(hostOf('10.0.0.1:7901'), '10.0.0.1');
    assert.equal(hostOf('[fd00::1]:7901'), 'fd00::1');
    assert.equal(hostOf('node-a.example:7901'), 'node-a.example');
    assert.equal(commonPrefixLength('10.0.1.5', '10.0.1.7'), 7);
  });

  it('puts the owner first, then the nearest addresses, then round the ring of indexes from the owner', () => {
    const addresses: Record<number, string> = {
      1: '10.0.0.1:7901', 2: '10.0.1.2:7901', 3: '10.0.0.3:7901', 4: '10.0.0.1:7902', 5: '192.168.0.5:7901',
    };
    const addressOf = (i: number) => addresses[i] ?? '';
    assert.deepEqual(ownerOrder(1, [1, 2, 3, 4, 5], addressOf), [1, 4, 3, 2, 5]);
    assert.deepEqual(ownerOrder(2, [1, 2, 3], () => ''), [2, 3, 1], 'unknown addresses: the next index, wrapping');
    // Same host for all: each node's first failover peer is the next one, so copies spread evenly.
    const firstPeers = [1, 2, 3].map((o) => ownerOrder(o, [1, 2, 3], () => '127.0.0.1:7901')[1]);
    assert.deepEqual(firstPeers, [2, 3, 1]);
  });
});

describe('holders and acting owner', () => {
  const order = [3, 1, 4, 2];

  it('holds on the first 1 + failoverPeers alive members; the first alive one acts', () => {
    assert.deepEqual(holdersOf(order, liveness([1, 2, 3, 4]), 1), [3, 1]);
    assert.deepEqual(holdersOf(order, liveness([1, 2, 3, 4]), 2), [3, 1, 4]);
    assert.deepEqual(holdersOf(order, liveness([1, 2, 4]), 1), [1, 4]);
    assert.equal(actingOwnerOf(order, liveness([1, 2, 4])), 1);
    assert.deepEqual(holdersOf(order, liveness([2]), 1), [2]);
    assert.equal(actingOwnerOf(order, liveness([])), undefined);
  });

  it('passes over a member that is not ready, which keeps holding a copy', () => {
    const live = liveness([1, 2, 3, 4], [3]);
    assert.equal(actingOwnerOf(order, live), 1);
    assert.deepEqual(holdersOf(order, live, 1), [3, 1]);
    assert.deepEqual(holdersOf(order, live, 0), [3, 1], 'the acting owner always holds, even with no failover peers');
    assert.equal(actingOwnerOf(order, liveness([1, 3], [1, 3])), 3, 'nobody ready: the first alive acts');
  });
});
