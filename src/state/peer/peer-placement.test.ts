// Where records live: exactly 1 + failoverPeers copies, only on the members of a service's share group, and a node
// outside the group still reads and writes through the members.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routedId } from '../routed-id.js';
import type { SessionRecord, StateServiceName } from '../types.js';
import { held, TestCluster } from './test-cluster.js';

const MINUTE = 60_000;
const session = (id: string, userId = 'alice'): SessionRecord =>
  ({ id, uid: `${id}-uid`, userId, payload: { id }, expiresAt: Date.now() + MINUTE });

/** Nodes whose own store has a copy of the record. */
function holdersOf(cluster: TestCluster, service: 'sessions' | 'interRequest', key: string): number[] {
  return cluster.net.indexes.filter((n) => cluster.node(n)[service].store.map.peek(key) !== undefined);
}

describe('peer backend: placement', () => {
  for (const failoverPeers of [0, 1, 2]) {
    it(`keeps exactly ${1 + failoverPeers} copies of each record on 4 nodes (failoverPeers=${failoverPeers})`, async () => {
      const cluster = await TestCluster.start({ indexes: [1, 2, 3, 4], failoverPeers });
      try {
        const sessions = Array.from({ length: 24 }, (_, i) => routedId(1 + (i % 4)));
        const interactions = Array.from({ length: 24 }, (_, i) => `interaction-${i}`);
        await Promise.all(sessions.map((id, i) => cluster.node(1 + ((i + 1) % 4)).sessions.put(session(id))));
        await Promise.all(interactions.map((k, i) => cluster.node(1 + (i % 4)).interRequest.put(k, { i }, Date.now() + MINUTE)));
        for (const id of sessions) {
          const on = holdersOf(cluster, 'sessions', id);
          assert.equal(on.length, 1 + failoverPeers, `session ${id} on ${on}`);
          assert.ok(on.includes(cluster.node(1).sessions.store.route(id).acting!));
        }
        for (const k of interactions) assert.equal(holdersOf(cluster, 'interRequest', k).length, 1 + failoverPeers, k);
        const stats = await Promise.all([1, 2, 3, 4].map(async (n) => (await cluster.node(n).stats()).sessions));
        assert.equal(stats.reduce((sum, s) => sum + s.owner, 0), sessions.length, 'each session has one acting owner');
        assert.equal(stats.reduce((sum, s) => sum + s.replica, 0), sessions.length * failoverPeers);
        assert.equal(await cluster.node(3).sessions.count(), sessions.length);
        assert.equal(await cluster.node(3).sessions.countOwned(), stats[2]!.owner);
      } finally {
        await cluster.close();
      }
    });
  }

  it('keeps subclusters apart: a session created on 1 is never stored on 3 or 4', async () => {
    const cluster = await TestCluster.start({
      indexes: [1, 2, 3, 4],
      preferredNodes: (index) => ({ sessions: index <= 2 ? [1, 2] : [3, 4] }),
    });
    try {
      const left = Array.from({ length: 10 }, () => routedId(1));
      const right = Array.from({ length: 5 }, () => routedId(3));
      for (const id of left) await cluster.node(1).sessions.put(session(id));
      for (const id of right) await cluster.node(4).sessions.put(session(id, 'bob'));
      await cluster.node(2).sessions.put(session('no-owner'));
      const counts = await Promise.all([1, 2, 3, 4].map((n) => held(cluster, n, 'sessions')));
      assert.deepEqual(counts, [11, 11, 5, 5]);
      for (const id of left) assert.deepEqual(holdersOf(cluster, 'sessions', id), [1, 2]);
      assert.equal(await cluster.node(3).sessions.get(left[0]!), undefined);
      assert.equal(await cluster.node(1).sessions.count(), 11);
      assert.equal(await cluster.node(4).sessions.count(), 5);
      assert.deepEqual(await cluster.node(3).sessions.listByUser('alice'), []);
      await cluster.node(3).interRequest.put('shared', { x: 1 }, Date.now() + MINUTE);
      assert.deepEqual(await cluster.node(1).interRequest.get('shared'), { x: 1 }, 'other services stay cluster-wide');
    } finally {
      await cluster.close();
    }
  });

  it('lets a node outside the share group use the service through its members, storing nothing', async () => {
    const only: Partial<Record<StateServiceName, number[]>> = { sessions: [1, 2], revocations: [1, 2], tokens: [1, 2] };
    const cluster = await TestCluster.start({ preferredNodes: () => only });
    try {
      const outsider = cluster.node(3);
      const id = routedId(3);
      await outsider.sessions.put(session(id));
      assert.equal((await outsider.sessions.get(id))?.id, id);
      assert.equal((await outsider.sessions.findByUid(`${id}-uid`))?.id, id);
      assert.deepEqual((await outsider.sessions.list()).items.map((s) => s.id), [id]);
      assert.deepEqual(holdersOf(cluster, 'sessions', id), [1, 2]);
      await outsider.tokens.put({ model: 'AuthorizationCode', id: 'c1', payload: {}, expiresAt: Date.now() + MINUTE });
      assert.equal(await outsider.tokens.consume('AuthorizationCode', 'c1'), 'consumed');
      await outsider.revocations.revoke(id, Date.now() + MINUTE);
      assert.equal(await outsider.revocations.isRevoked(id), true);
      assert.deepEqual((await outsider.revocations.entries()).map((e) => e.id), [id]);
      const stats = await outsider.stats();
      assert.deepEqual([stats.sessions, stats.tokens, stats.revocations].map((s) => s.owner + s.replica), [0, 0, 0]);
      assert.equal(await cluster.node(1).revocations.isRevoked(id), true);
    } finally {
      await cluster.close();
    }
  });
});
