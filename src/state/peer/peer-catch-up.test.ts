// A node that comes back: it pulls what it holds before it acts as owner, serves the newest data once it does, and
// the others drop the copies they no longer hold. Revocations reach every node and a newcomer copies the list.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routedId } from '../routed-id.js';
import type { SessionRecord } from '../types.js';
import { rendezvousOrder } from './placement.js';
import { held, SPREAD_ADDRESSES, TestCluster } from './test-cluster.js';

const MINUTE = 60_000;
const session = (id: string, payload = { n: 1 }): SessionRecord =>
  ({ id, uid: `${id}-uid`, userId: 'alice', payload, expiresAt: Date.now() + MINUTE });

describe('peer backend: catch-up', () => {
  it('brings a restarted owner what was written while it was down, and hands it its records back', async () => {
    // Small pages, so the transfer takes several round trips.
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, maxPageBytes: 16 * 1024 });
    try {
      const before = routedId(1);
      await cluster.node(1).sessions.put(session(before));
      await cluster.kill(1);
      await cluster.node(2).sessions.put(session(before, { n: 2 }));
      const during = [routedId(1), routedId(1), routedId(1)];
      for (const id of during) await cluster.node(2).sessions.put(session(id));
      const keys = Array.from({ length: 600 }, (_, i) => `interaction-${i}`);
      await Promise.all(keys.map((k, i) => cluster.node(2 + (i % 2)).interRequest.put(k, { i, pad: 'x'.repeat(100) }, Date.now() + MINUTE)));

      assert.equal(await held(cluster, 2, 'sessions'), 4, 'while 1 is down, 2 holds the copies');

      cluster.net.revive(1);
      const catchingUp = cluster.startNode(1);
      assert.equal(cluster.node(1).ready, false, 'not an owner before its catch-up');
      assert.equal(cluster.node(2).sessions.store.route(before).acting, 3, 'the others keep using the failover peer');
      const result = await catchingUp;
      assert.equal(result.completed, true);
      assert.ok(result.records >= 4 + keys.length * 2 / 3, `pulled ${result.records}`);
      assert.equal(cluster.node(1).ready, true);
      assert.equal(cluster.node(2).sessions.store.route(before).acting, 1, 'the owner is back');

      const stats = (await cluster.node(1).stats()).sessions;
      assert.deepEqual(stats, { owner: 4, replica: 0, tombstones: 0 });
      assert.deepEqual(cluster.node(1).sessions.store.map.peek(before)?.value?.record.payload, { n: 2 }, 'newest version');
      const expected = keys.filter((k) => rendezvousOrder(k, [1, 2, 3]).slice(0, 2).includes(1)).length;
      assert.equal(await held(cluster, 1, 'interRequest'), expected);
      assert.deepEqual((await cluster.node(2).sessions.list()).items.map((s) => s.id).sort(), [before, ...during].sort());

      await cluster.settle();
      assert.equal(await held(cluster, 2, 'sessions'), 0, 'node 2 dropped the copies it no longer holds');
      for (const n of [1, 2, 3]) {
        assert.equal(await held(cluster, n, 'interRequest') > 0, true);
      }
      const copies = [1, 2, 3].map((n) => held(cluster, n, 'interRequest'));
      assert.equal((await Promise.all(copies)).reduce((a, b) => a + b), keys.length * 2, 'two copies of each, no more');
    } finally {
      await cluster.close();
    }
  });

  it('keeps a node whose catch-up timed out from acting as owner until a retry completes', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, bulkTimeoutMs: 150, rpcTimeoutMs: 100 });
    try {
      const id = routedId(1);
      await cluster.node(1).sessions.put(session(id));
      await cluster.kill(1);
      await cluster.node(2).sessions.put(session(id, { n: 2 }));
      // Node 3 holds node 1's records while it is down; make its answers to catch-up pulls too slow.
      cluster.net.delayMs = ({ to, method }) => (to === 3 && method.endsWith('.pull') ? 400 : 0);
      const result = await cluster.revive(1);
      assert.equal(result.completed, false);
      assert.equal(cluster.node(1).ready, false);
      assert.equal(cluster.node(1).sessions.store.route(id).acting, 3, 'node 1 does not act on what it may lack');
      assert.deepEqual((await cluster.node(1).sessions.get(id))?.payload, { n: 2 }, 'and still serves, through node 3');
      cluster.net.delayMs = 0;
      const deadline = Date.now() + 2_000;
      while (!cluster.node(1).ready && Date.now() < deadline) await cluster.settle(20);
      assert.equal(cluster.node(1).ready, true, 'a background retry completed');
      assert.equal(cluster.node(2).sessions.store.route(id).acting, 1);
      assert.deepEqual(cluster.node(1).sessions.store.map.peek(id)?.value?.record.payload, { n: 2 });
    } finally {
      await cluster.close();
    }
  });
});

describe('peer backend: revocations', () => {
  it('reach every node, and a node that joins copies the whole list', async () => {
    const cluster = await TestCluster.start({ maxPageBytes: 1_024 });
    try {
      const exp = Date.now() + MINUTE;
      await cluster.node(1).revocations.revoke('r1', exp);
      await cluster.node(2).revocations.revoke('r2', exp);
      for (const n of [1, 2, 3]) {
        assert.equal(await cluster.node(n).revocations.isRevoked('r1'), true, `node ${n}`);
        assert.equal(await cluster.node(n).revocations.isRevoked('r2'), true, `node ${n}`);
      }
      await cluster.kill(3);
      const more = Array.from({ length: 60 }, (_, i) => `late-${i}`);
      for (const id of more) await cluster.node(1 + (more.indexOf(id) % 2)).revocations.revoke(id, exp);
      const result = await cluster.revive(3);
      assert.equal(result.completed, true);
      const ids = (await cluster.node(3).revocations.entries()).map((e) => e.id);
      assert.deepEqual([...ids].sort(), ['r1', 'r2', ...more].sort());
      assert.equal(await cluster.node(3).revocations.isRevoked('late-59'), true);
    } finally {
      await cluster.close();
    }
  });

  it('keep at most maxRevocations on every node, dropping the oldest first', async () => {
    const cluster = await TestCluster.start({ limits: { maxRevocations: 3 } });
    try {
      const list = cluster.roundRobin('revocations');
      for (const id of ['r1', 'r2', 'r3', 'r4']) await list.revoke(id, Date.now() + MINUTE);
      for (const n of [1, 2, 3]) {
        assert.deepEqual((await cluster.node(n).revocations.entries()).map((e) => e.id), ['r2', 'r3', 'r4']);
        assert.equal(await cluster.node(n).revocations.isRevoked('r1'), false);
      }
    } finally {
      await cluster.close();
    }
  });
});
