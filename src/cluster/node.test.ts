// Several real nodes in one process, over real TLS sockets on 127.0.0.1 with ephemeral ports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VERSION } from '../version.js';
import { FAST_TIMINGS, nextEvent, nodeConfig, startCluster, stopAll, waitFor } from './cluster-harness.js';
import { ClusterError } from './errors.js';
import { ClusterNode } from './node.js';
import { MAX_INFLIGHT_PER_CONNECTION } from './sessions.js';
import type { MemberInfo } from './types.js';

/** Failure must be seen within failureTimeoutMs + one heartbeat; the slack covers event-loop and socket latency. */
const FAILURE_BOUND_MS = FAST_TIMINGS.failureTimeoutMs + FAST_TIMINGS.heartbeatIntervalMs + 200;

describe('ClusterNode', () => {
  it('three nodes form a cluster and report quorum', async () => {
    const nodes = await startCluster(3);
    try {
      for (const node of nodes) {
        const others = node.aliveMembers();
        assert.deepEqual(others.map((m) => m.index), [0, 1, 2].filter((i) => i !== node.selfIndex));
        for (const member of others) {
          const peer = nodes[member.index]!;
          assert.equal(member.address, peer.address);
          assert.equal(member.instanceId, peer.instanceId);
          assert.equal(member.version, VERSION);
          assert.equal(member.role, 'engine');
          assert.equal(member.state, 'alive');
        }
        const status = node.status();
        assert.equal(status.state, 'quorum');
        assert.equal(status.readOnly, false);
        assert.equal(status.configuredMembers, 3);
        assert.equal(status.reachableMembers, 3);
        assert.deepEqual(status.members.map((m) => [m.index, m.self]),
          [[node.selfIndex, true], ...others.map((m) => [m.index, false])]);
      }
    } finally {
      await stopAll(nodes);
    }
  });

  it('calls one member and broadcasts to all, with errors as { code, message } and no stack', async () => {
    const nodes = await startCluster(3);
    try {
      for (const node of nodes) {
        node.handle('echo', (payload, from) => ({ at: node.selfIndex, from: from.index, payload }));
        node.handle('fail', () => {
          throw Object.assign(new Error('no such session'), { code: 'STATE_NOT_FOUND' });
        });
      }
      assert.deepEqual(await nodes[0]!.call(2, 'echo', { x: [1, 'two'] }), { at: 2, from: 0, payload: { x: [1, 'two'] } });
      assert.deepEqual(await nodes[1]!.call(1, 'echo', 'local'), { at: 1, from: 1, payload: 'local' });

      const results = await nodes[0]!.broadcast<{ at: number }>('echo', 'hi');
      assert.deepEqual(results.map((r) => r.ok && [r.index, r.value.at]), [[1, 1], [2, 2]]);
      const withSelf = await nodes[0]!.broadcast('echo', 'hi', { includeSelf: true });
      assert.deepEqual(withSelf.map((r) => r.index), [0, 1, 2]);

      const error = await nodes[0]!.call(1, 'fail').then(() => assert.fail('should reject'), (e: unknown) => e);
      assert.ok(error instanceof ClusterError);
      assert.equal(error.code, 'CLUSTER_REMOTE');
      assert.equal(error.remoteCode, 'STATE_NOT_FOUND');
      assert.equal(error.member, 1);
      assert.match(error.message, /no such session/);
      assert.equal(error.cause, undefined, 'nothing but code and message crosses the wire');
      await assert.rejects(nodes[0]!.call(2, 'missing'), { code: 'CLUSTER_NO_HANDLER' });
      await assert.rejects(nodes[0]!.call(7, 'echo'), { code: 'CLUSTER_UNREACHABLE' });
    } finally {
      await stopAll(nodes);
    }
  });

  it('callMajority resolves once a majority answered, without waiting for the rest', async () => {
    const nodes = await startCluster(3);
    try {
      nodes[0]!.handle('vote', () => 'yes-0');
      nodes[1]!.handle('vote', () => 'yes-1');
      nodes[2]!.handle('vote', () => new Promise(() => undefined)); // never answers
      const started = Date.now();
      const result = await nodes[1]!.callMajority<string>('vote', undefined, { timeoutMs: 5_000 });
      assert.ok(Date.now() - started < 1_000, 'did not wait for the member that never answers');
      assert.equal(result.needed, 2);
      assert.deepEqual(result.answers.map((a) => a.value).sort(), ['yes-0', 'yes-1'], 'self counts when it handles locally');

      // Only node 2 handles 'lonely': the other two fail at once, so a majority is impossible before any deadline.
      nodes[2]!.handle('lonely', () => 'me');
      const early = Date.now();
      await assert.rejects(nodes[2]!.callMajority('lonely', undefined, { timeoutMs: 5_000 }), { code: 'CLUSTER_NO_QUORUM' });
      assert.ok(Date.now() - early < 1_000);

      // Two of three never answer: the deadline decides.
      nodes[0]!.handle('hang', () => new Promise(() => undefined));
      nodes[1]!.handle('hang', () => 'ok');
      nodes[2]!.handle('hang', () => new Promise(() => undefined));
      const late = Date.now();
      await assert.rejects(nodes[1]!.callMajority('hang', undefined, { timeoutMs: 300 }), { code: 'CLUSTER_TIMEOUT' });
      const elapsed = Date.now() - late;
      assert.ok(elapsed >= 290 && elapsed < 1_000, `settled after ${elapsed} ms`);
    } finally {
      await stopAll(nodes);
    }
  });

  it('a member can be called from inside member.joined, on both sides of the handshake', async () => {
    const a = new ClusterNode(nodeConfig(0));
    const b = new ClusterNode(nodeConfig(1));
    try {
      a.handle('ping', () => 'from a');
      b.handle('ping', () => 'from b');
      // Each greets the newcomer at once: the request may arrive in the same read as the welcome.
      const greetings = [a, b].map((node) => new Promise<unknown>((resolve, reject) => {
        node.on('member.joined', (m) => { node.call(m.index, 'ping', null, { timeoutMs: 1_500 }).then(resolve, reject); });
      }));
      await a.start();
      b.setInitialHosts([a.address]);
      await b.start();
      assert.deepEqual(await Promise.all(greetings), ['from b', 'from a']);
    } finally {
      await stopAll([a, b]);
    }
  });

  it('an RPC to a handler that never answers rejects with CLUSTER_TIMEOUT within its deadline', async () => {
    const nodes = await startCluster(2);
    try {
      nodes[1]!.handle('hang', () => new Promise(() => undefined));
      const started = Date.now();
      await assert.rejects(nodes[0]!.call(1, 'hang', null, { timeoutMs: 200 }), { code: 'CLUSTER_TIMEOUT' });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 190 && elapsed < 600, `rejected after ${elapsed} ms`);
      const local = Date.now();
      await assert.rejects(nodes[1]!.call(1, 'hang', null, { timeoutMs: 100 }), { code: 'CLUSTER_TIMEOUT' });
      assert.ok(Date.now() - local < 500);
    } finally {
      await stopAll(nodes);
    }
  });

  it('stops reading from a caller with too many requests in flight, without taking it for dead', async () => {
    const nodes = await startCluster(2);
    try {
      let started = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      nodes[1]!.handle('hold', async () => {
        started++;
        await gate;
        return 'done';
      });
      const total = 4 * MAX_INFLIGHT_PER_CONNECTION;
      const calls = Array.from({ length: total }, () => nodes[0]!.call(1, 'hold', null, { timeoutMs: 10_000 }));
      await waitFor(() => started >= MAX_INFLIGHT_PER_CONNECTION, 5_000, 'the in-flight limit');
      // Held for longer than failureTimeoutMs: node 0's heartbeats sit unread behind the paused socket meanwhile.
      await new Promise((resolve) => setTimeout(resolve, FAST_TIMINGS.failureTimeoutMs + 200));
      assert.ok(started < total, `all ${total} requests were taken in at once`);
      assert.equal(nodes[1]!.members()[0]!.state, 'alive', 'a paused caller is not declared dead');
      release();
      assert.deepEqual(new Set(await Promise.all(calls)), new Set(['done']));
      assert.equal(started, total);
    } finally {
      await stopAll(nodes);
    }
  });

  it('a graceful stop gives member.left, and quorum holds with 2 of 3', async () => {
    const nodes = await startCluster(3);
    try {
      const left = nextEvent(nodes[0]!, 'member.left', 2_000);
      const failed: MemberInfo[] = [];
      nodes[0]!.on('member.failed', (m) => failed.push(m));
      await nodes[2]!.stop();
      const [member] = await left;
      assert.equal(member.index, 2);
      assert.equal(member.state, 'left');
      assert.equal(nodes[0]!.members().find((m) => m.index === 2)?.state, 'left');
      assert.equal(nodes[0]!.status().state, 'quorum');
      await assert.rejects(nodes[0]!.call(2, 'x'), { code: 'CLUSTER_UNREACHABLE' });
      await new Promise((resolve) => setTimeout(resolve, FAILURE_BOUND_MS));
      assert.deepEqual(failed, [], 'a member that left is not also reported failed');
      assert.equal(nodes[2]!.status().state, 'unavailable');
    } finally {
      await stopAll(nodes);
    }
  });

  it('a crash gives member.failed within failureTimeoutMs + one heartbeat; quorum at 2 of 3, read-only at 1 of 3', async () => {
    const nodes = await startCluster(3);
    try {
      nodes[0]!.handle('slow', () => new Promise(() => undefined));
      const pending = nodes[2]!.call(0, 'slow', null, { timeoutMs: 10_000 });
      const failed = nextEvent(nodes[2]!, 'member.failed', 3_000);
      const crashedAt = Date.now();
      await nodes[0]!.stop({ leave: false });
      const [member] = await failed;
      const detectedAfter = Date.now() - crashedAt;
      assert.equal(member.index, 0);
      assert.equal(member.state, 'dead');
      assert.ok(detectedAfter <= FAILURE_BOUND_MS, `failure seen after ${detectedAfter} ms`);
      await assert.rejects(pending, { code: 'CLUSTER_UNREACHABLE' }, 'calls to a dead member fail at once');
      assert.equal(nodes[2]!.status().state, 'quorum');
      assert.equal(nodes[1]!.status().state, 'quorum');

      const started = Date.now();
      await assert.rejects(nodes[2]!.call(0, 'slow'), { code: 'CLUSTER_UNREACHABLE' });
      assert.ok(Date.now() - started < 50, 'fails fast');

      const readOnly = nextEvent(nodes[2]!, 'status.changed', 3_000, (c) => c.current === 'read-only');
      await nodes[1]!.stop({ leave: false });
      const [change] = await readOnly;
      assert.deepEqual(change, { previous: 'quorum', current: 'read-only' });
      const status = nodes[2]!.status();
      assert.equal(status.readOnly, true);
      assert.equal(status.reachableMembers, 1);
      assert.deepEqual(status.members.map((m) => m.state), ['alive', 'dead', 'dead']);
    } finally {
      await stopAll(nodes);
    }
  });

  it('two nodes, one down: read-only', async () => {
    const nodes = await startCluster(2);
    try {
      assert.equal(nodes[0]!.status().state, 'quorum');
      await nodes[1]!.stop();
      await waitFor(() => nodes[0]!.status().state === 'read-only', 2_000, 'read-only');
    } finally {
      await stopAll(nodes);
    }
  });

  it('refuses a second node with an index in use, and the refused node says why', async () => {
    const nodes = await startCluster(3);
    const duplicate = new ClusterNode(nodeConfig(2, { initialHosts: [nodes[0]!.address, nodes[1]!.address] }));
    try {
      const rejected = nextEvent(nodes[0]!, 'connection.rejected', 3_000);
      await assert.rejects(duplicate.start(), (e: unknown) => {
        assert.ok(e instanceof ClusterError);
        assert.equal(e.code, 'CLUSTER_REFUSED');
        assert.match(e.message, new RegExp(`node index 2 is already in use by ${nodes[2]!.address.replace(/\./g, '\\.')}`));
        return true;
      });
      assert.match((await rejected)[0].reason, /node index 2 is already in use/);
      assert.equal(duplicate.status().state, 'unavailable');
      assert.equal(nodes[0]!.members().find((m) => m.index === 2)?.instanceId, nodes[2]!.instanceId);
      assert.equal(nodes[0]!.status().state, 'quorum');
      // Its own index too: a node may not join as the acceptor's index.
      const twin = new ClusterNode(nodeConfig(0, { initialHosts: [nodes[0]!.address] }));
      await assert.rejects(twin.start(), { code: 'CLUSTER_REFUSED', message: /node index 0 is already in use by/ });
    } finally {
      await stopAll([...nodes, duplicate]);
    }
  });

  it('a crashed node restarted under the same index is let back in as a new instance', async () => {
    const nodes = await startCluster(3);
    let restarted: ClusterNode | undefined;
    try {
      const oldInstance = nodes[2]!.instanceId;
      await nodes[2]!.stop({ leave: false });
      // Immediately, before anyone declared it dead: its connections are gone, so it is taken for crashed.
      restarted = new ClusterNode(nodeConfig(2, { initialHosts: [nodes[0]!.address, nodes[1]!.address] }));
      await restarted.start();
      await waitFor(() => nodes[0]!.members().find((m) => m.index === 2)?.instanceId === restarted!.instanceId
        && nodes[1]!.members().find((m) => m.index === 2)?.instanceId === restarted!.instanceId, 2_000, 'the restart');
      assert.notEqual(restarted.instanceId, oldInstance);
      assert.equal(nodes[0]!.status().state, 'quorum');
      restarted.handle('ping', () => 'pong');
      assert.equal(await nodes[0]!.call(2, 'ping'), 'pong');
    } finally {
      await stopAll([...nodes, restarted]);
    }
  });

  it('learns members it was not configured with from gossip', async () => {
    const a = new ClusterNode(nodeConfig(10));
    const b = new ClusterNode(nodeConfig(11));
    const c = new ClusterNode(nodeConfig(12));
    try {
      await a.start();
      b.setInitialHosts([a.address]);
      await b.start();
      c.setInitialHosts([b.address]); // c knows only b
      await c.start();
      await waitFor(() => c.aliveMembers().length === 2 && a.aliveMembers().length === 2, 3_000, 'gossip');
      a.handle('who', () => 'a');
      assert.equal(await c.call(10, 'who'), 'a');
      // Quorum counts the configured set only: c was configured with b alone.
      assert.equal(c.status().configuredMembers, 2);
    } finally {
      await stopAll([a, b, c]);
    }
  });

  it('lists itself in initialHosts without counting itself twice', async () => {
    const nodes = [new ClusterNode(nodeConfig(0)), new ClusterNode(nodeConfig(1))];
    try {
      const addresses = await Promise.all(nodes.map((n) => n.listen()));
      // 'localhost' is an alias of its own address that only dialling can reveal.
      const alias = addresses[0]!.replace('127.0.0.1', 'localhost');
      nodes[0]!.setInitialHosts([alias, addresses[1]!]);
      nodes[1]!.setInitialHosts(addresses);
      await Promise.all(nodes.map((n) => n.start()));
      await waitFor(() => nodes[0]!.status().configuredMembers === 2, 2_000, 'self recognised');
      assert.equal(nodes[1]!.status().configuredMembers, 2);
      assert.equal(nodes[0]!.status().state, 'quorum');
    } finally {
      await stopAll(nodes);
    }
  });

  it('refuses calls before start and after stop', async () => {
    const node = new ClusterNode(nodeConfig(0));
    await assert.rejects(node.call(0, 'x'), { code: 'CLUSTER_STOPPED' });
    assert.equal(node.status().state, 'unavailable');
    await node.start();
    assert.equal(node.status().state, 'quorum', 'a lone configured member is its own majority');
    await node.stop();
    await assert.rejects(node.broadcast('x'), { code: 'CLUSTER_STOPPED' });
    await assert.rejects(node.start(), { code: 'CLUSTER_STOPPED' });
  });
});
