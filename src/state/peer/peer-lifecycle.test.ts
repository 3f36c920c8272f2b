// Lifecycle and wire hygiene: options are validated, close() leaves nothing registered, and what a peer sends is
// checked (versioned envelope, unknown fields ignored, malformed records refused) before it touches a store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError } from '../../cluster/errors.js';
import { DEFAULT_LOCAL_LIMITS } from '../local/index.js';
import { createPeerStateServices } from './index.js';
import { FakeNetwork } from './fake-network.js';
import { MemoryLogger, TestCluster } from './test-cluster.js';

const MINUTE = 60_000;

describe('peer backend: lifecycle', () => {
  it('refuses bad options with a RangeError naming the option', () => {
    const rpc = new FakeNetwork().rpc(1);
    const make = (extra: object) => () => createPeerStateServices({ rpc, limits: DEFAULT_LOCAL_LIMITS, ...extra });
    assert.throws(make({ failoverPeers: -1 }), /failoverPeers/);
    assert.throws(make({ rpcTimeoutMs: 0 }), /rpcTimeoutMs/);
    assert.throws(make({ preferredNodes: { sessions: [1.5] } }), /preferredNodes\.sessions/);
    assert.throws(make({ preferredNodes: { nope: [1] } }), /unknown service/);
    assert.throws(make({ limits: { ...DEFAULT_LOCAL_LIMITS, maxSessions: 0 } }), /limits\.maxSessions/);
  });

  it('unregisters every handler on close, so the node can build its services again', async () => {
    const net = new FakeNetwork();
    const first = createPeerStateServices({ rpc: net.rpc(1), limits: DEFAULT_LOCAL_LIMITS });
    assert.ok(net.node(1).handlers.size > 30);
    assert.ok([...net.node(1).handlers.keys()].every((m) => m.startsWith('state.')));
    await first.close();
    assert.equal(net.node(1).handlers.size, 0);
    const second = createPeerStateServices({ rpc: net.rpc(1), limits: DEFAULT_LOCAL_LIMITS });
    await second.close();
  });

  it('acts as owner only after catch-up; before it, writes go to a ready member', async () => {
    const cluster = await TestCluster.start({ indexes: [1, 2] });
    try {
      await cluster.kill(2);
      cluster.net.revive(2);
      const late = createPeerStateServices({ rpc: cluster.net.rpc(2), limits: DEFAULT_LOCAL_LIMITS, sweepIntervalMs: 0 });
      try {
        assert.equal(late.ready, false);
        await late.interRequest.put('k', { a: 1 }, Date.now() + MINUTE);
        assert.equal((await cluster.node(1).stats()).interRequest.owner, 1, 'node 1 executed the write');
        assert.equal((await late.stats()).interRequest.replica, 1, 'node 2 got its copy as a holder');
        const result = await late.catchUp();
        assert.equal(result.completed, true);
        assert.ok(result.records >= 1, 'pulled its share from node 1');
        assert.equal(late.ready, true);
      } finally {
        await late.close();
      }
    } finally {
      await cluster.close();
    }
  });
});

describe('peer backend: wire', () => {
  it('checks the envelope, ignores unknown fields and refuses malformed arguments', async () => {
    const cluster = await TestCluster.start({ indexes: [1, 2] });
    try {
      const rpc = cluster.net.rpc(2);
      const remote = (method: string, payload: unknown) => rpc.call(1, method, payload).catch((e: ClusterError) => e);
      const missingVersion = await remote('state.interRequest.get', { key: 'k' });
      assert.equal((missingVersion as ClusterError).remoteCode, 'STATE_PROTOCOL');
      assert.deepEqual(await remote('state.interRequest.get', { v: 1, key: 'k', future: { x: 1 } }), { v: 1, entry: null });
      const bad = await remote('state.sessions.put', { v: 1, key: 's', args: { record: { id: 's' } } });
      assert.equal((bad as ClusterError).remoteCode, 'STATE_PROTOCOL');
      assert.equal(await cluster.node(1).sessions.count(), 0);
    } finally {
      await cluster.close();
    }
  });

  it('drops malformed replicated records and logs how many, storing the good ones', async () => {
    const logger = new MemoryLogger();
    const cluster = await TestCluster.start({ indexes: [1, 2], logger });
    try {
      const good = { value: { a: 1 }, expiresAt: Date.now() + MINUTE, version: { ts: Date.now(), node: 2 } };
      const reply = await cluster.net.rpc(2).call(1, 'state.interRequest.apply', {
        v: 1, records: [['good', good], ['no-version', { value: { a: 1 }, expiresAt: 1 }], ['bad-value', { ...good, value: 'x' }], 7],
      });
      assert.deepEqual(reply, { v: 1, applied: 1 });
      assert.deepEqual(cluster.node(1).interRequest.store.map.peek('good')?.value, { a: 1 });
      assert.ok(logger.lines.some((l) => l.message === 'malformed state records ignored' && l.details.rejected === 3));
    } finally {
      await cluster.close();
    }
  });
});
