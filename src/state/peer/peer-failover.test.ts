// What only the peer backend promises when nodes die: records outlive their owner, one-time operations stay
// one-time across nodes and are refused without quorum, and redundancy comes back after a failure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routedId } from '../routed-id.js';
import { StateUnavailableError, type SessionRecord, type TokenRecord } from '../types.js';
import { rendezvousOrder } from './placement.js';
import { held, MemoryLogger, SPREAD_ADDRESSES, TestCluster } from './test-cluster.js';

const MINUTE = 60_000;
const session = (id: string, fields: Partial<SessionRecord> = {}): SessionRecord =>
  ({ id, uid: `${id}-uid`, userId: 'alice', payload: { n: 1 }, expiresAt: Date.now() + MINUTE, ...fields });
const code = (id: string): TokenRecord =>
  ({ model: 'AuthorizationCode', id, payload: { scope: 'openid' }, expiresAt: Date.now() + MINUTE, grantId: 'g1' });
const unavailable = (pattern: RegExp) => (error: unknown) => error instanceof StateUnavailableError && pattern.test(error.message);

describe('peer backend: a dead owner', () => {
  it('leaves its sessions and codes readable and consumable exactly once through the others', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES });
    try {
      const id = routedId(1);
      const uid = routedId(1);
      await cluster.node(1).sessions.put(session(id, { uid }));
      const codeId = routedId(1);
      await cluster.node(2).tokens.put(code(codeId));
      assert.equal(await held(cluster, 1, 'sessions'), 1);
      assert.equal(await held(cluster, 3, 'sessions'), 1, 'the nearest peer holds the copy');
      assert.equal(await held(cluster, 2, 'sessions'), 0);
      assert.equal(await held(cluster, 2, 'tokens'), 0, 'a forwarded write is stored at the owner, not the caller');

      await cluster.kill(1);
      await cluster.settle();
      assert.equal((await cluster.node(2).sessions.get(id))?.userId, 'alice');
      assert.equal((await cluster.node(2).sessions.findByUid(uid))?.id, id);
      assert.deepEqual((await cluster.node(2).sessions.listByUser('alice')).map((s) => s.id), [id]);
      assert.equal(await cluster.node(2).sessions.count(), 1);
      assert.equal((await cluster.node(3).stats()).sessions.owner, 1, 'the failover peer took over');
      assert.equal(await held(cluster, 2, 'sessions'), 1, 'and re-replicated to the survivor');

      const results = await Promise.all([2, 3, 2, 3].map((n) => cluster.node(n).tokens.consume('AuthorizationCode', codeId)));
      assert.deepEqual([...results].sort(), ['already_consumed', 'already_consumed', 'already_consumed', 'consumed']);
      assert.equal(typeof (await cluster.node(2).tokens.get('AuthorizationCode', codeId))?.payload.consumed, 'number');
    } finally {
      await cluster.close();
    }
  });

  it('survives a second failure once redundancy was restored', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES });
    try {
      const id = routedId(1);
      await cluster.node(1).sessions.put(session(id));
      await cluster.kill(3);
      await cluster.settle();
      assert.equal(await held(cluster, 2, 'sessions'), 1, 'the owner copied the session to the next peer');
      await cluster.kill(1);
      assert.equal((await cluster.node(2).sessions.get(id))?.id, id);
    } finally {
      await cluster.close();
    }
  });
});

describe('peer backend: one-time operations', () => {
  it('give exactly one winner when nodes race, whoever owns the record', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, delayMs: 3 });
    try {
      for (const owner of [1, 2, 3]) {
        const codeId = routedId(owner);
        await cluster.node(owner).tokens.put(code(codeId));
        const consumes = await Promise.all([1, 2, 3, 1, 2, 3].map((n) => cluster.node(n).tokens.consume('AuthorizationCode', codeId)));
        assert.equal(consumes.filter((r) => r === 'consumed').length, 1, `code owned by ${owner}`);
        const handle = routedId(owner);
        await cluster.node(owner).artifacts.put(handle, '<Response/>', Date.now() + MINUTE);
        const takes = await Promise.all([3, 2, 1, 3].map((n) => cluster.node(n).artifacts.take(handle)));
        assert.deepEqual(takes.filter((t) => t !== undefined), ['<Response/>']);
      }
      const sightings = await Promise.all([1, 2, 3, 1, 2, 3].map((n) => cluster.node(n).replay.checkAndSet('saml', '_a1', Date.now() + MINUTE)));
      assert.equal(sightings.filter(Boolean).length, 1);
    } finally {
      await cluster.close();
    }
  });

  it('on a read-only survivor run only for records it created, while reads and plain writes go on', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, failoverPeers: 2 });
    try {
      const id = routedId(1);
      const ownCode = routedId(1);
      const foreignCode = routedId(2);
      const handle = routedId(1);
      const foreignHandle = routedId(3);
      await cluster.node(1).sessions.put(session(id));
      await cluster.node(1).tokens.put(code(ownCode));
      await cluster.node(2).tokens.put(code(foreignCode));
      await cluster.node(1).artifacts.put(handle, 'm', Date.now() + MINUTE);
      await cluster.node(3).artifacts.put(foreignHandle, 'f', Date.now() + MINUTE);
      await cluster.kill(2);
      await cluster.kill(3);
      const survivor = cluster.node(1);
      assert.equal(cluster.net.rpc(1).status().state, 'read-only');
      // Records of nodes it cannot reach: the majority side could take them over, so refusing is the only safe answer.
      assert.ok((await survivor.tokens.get('AuthorizationCode', foreignCode)) !== undefined, 'it holds a copy');
      await assert.rejects(survivor.tokens.consume('AuthorizationCode', foreignCode), unavailable(/read-only/));
      await assert.rejects(survivor.artifacts.take(foreignHandle), unavailable(/read-only/));
      // Ids nobody in the cluster created (replay ids) have no owner that could vouch for them.
      await assert.rejects(survivor.replay.checkAndSet('saml', '_a1', Date.now() + MINUTE), unavailable(/read-only/));
      // Its own records: exactly once, as always.
      assert.equal(await survivor.tokens.consume('AuthorizationCode', ownCode), 'consumed');
      assert.equal(await survivor.tokens.consume('AuthorizationCode', ownCode), 'already_consumed');
      assert.equal(await survivor.artifacts.take(handle), 'm');
      assert.equal((await survivor.sessions.get(id))?.id, id);
      assert.equal((await survivor.tokens.get('AuthorizationCode', foreignCode))?.payload.consumed, undefined, 'not consumed');
      await survivor.sessions.put(session(id, { payload: { n: 2 } }));
      assert.deepEqual((await survivor.sessions.get(id))?.payload, { n: 2 });
    } finally {
      await cluster.close();
    }
  });

  it('fail with StateUnavailableError, never a guess, when the acting owner does not answer', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, rpcTimeoutMs: 100 });
    try {
      const codeId = routedId(1);
      await cluster.node(1).tokens.put(code(codeId));
      cluster.net.delayMs = ({ to }) => (to === 1 ? 300 : 0);
      await assert.rejects(cluster.node(2).tokens.consume('AuthorizationCode', codeId), unavailable(/node 1/));
      // Replay ids carry no owner: find one that rendezvous hashing gives to node 1.
      const replayId = Array.from({ length: 100 }, (_, i) => `_id${i}`)
        .find((i) => rendezvousOrder(`4:saml:${i}`, [1, 2, 3])[0] === 1)!;
      await assert.rejects(cluster.node(2).replay.checkAndSet('saml', replayId, Date.now() + MINUTE), unavailable(/node 1/));
      cluster.net.delayMs = 0;
    } finally {
      await cluster.close();
    }
  });
});

describe('peer backend: replication', () => {
  it('logs a replica that could not be written and still completes the write', async () => {
    const logger = new MemoryLogger();
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES, rpcTimeoutMs: 100, logger });
    try {
      cluster.net.delayMs = ({ to, method }) => (to === 3 && method === 'state.sessions.apply' ? 300 : 0);
      const id = routedId(1);
      await cluster.node(2).sessions.put(session(id));
      assert.equal((await cluster.node(1).sessions.get(id))?.id, id);
      const warning = logger.lines.find((l) => l.message.startsWith('state replica write failed'));
      assert.deepEqual(warning && { service: warning.details.service, member: warning.details.member }, { service: 'sessions', member: 3 });
      assert.ok(!JSON.stringify(logger.lines).includes(id), 'record ids are never logged');
      cluster.net.delayMs = 0;
    } finally {
      await cluster.close();
    }
  });

  it('deletes and revokes grants everywhere: no copy comes back when the owner dies', async () => {
    const cluster = await TestCluster.start({ addresses: SPREAD_ADDRESSES });
    try {
      const ids = [routedId(1), routedId(2), routedId(3)];
      for (const id of ids) await cluster.node(2).tokens.put({ ...code(id), model: 'AccessToken' });
      await cluster.node(3).tokens.revokeByGrantId('g1');
      for (const n of [1, 2, 3]) assert.equal(await held(cluster, n, 'tokens'), 0, `node ${n}`);
      const id = routedId(1);
      await cluster.node(1).sessions.put(session(id));
      await cluster.node(2).sessions.delete(id);
      await cluster.kill(1);
      await cluster.settle();
      assert.equal(await cluster.node(2).sessions.get(id), undefined);
      assert.equal(await cluster.node(3).sessions.count(), 0);
    } finally {
      await cluster.close();
    }
  });
});
