import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectRaw, frame, frameReader, listenRaw, nodeConfig, startCluster, stopAll, testSecret, waitFor,
} from './cluster-harness.js';
import { ClusterNode } from './node.js';
import { ClusterError } from './errors.js';
import { negotiateVersion, parseMessage, PROTOCOL_VERSION, SUPPORTED_PROTOCOL } from './protocol.js';

const identity = {
  cluster: 'test', index: 40, role: 'engine', address: '127.0.0.1:1', instanceId: 'i-40', version: '9.9.9',
};

describe('protocol', () => {
  it('negotiates the highest common version, or explains why there is none', () => {
    assert.equal(negotiateVersion({ min: 1, max: 1 }, { min: 1, max: 3 }), 1);
    assert.equal(negotiateVersion({ min: 1, max: 4 }, { min: 2, max: 3 }), 3);
    assert.equal(negotiateVersion({ min: 2, max: 4 }, { min: 1, max: 2 }), 2);
    const none = negotiateVersion({ min: 1, max: 1 }, { min: 2, max: 3 });
    assert.ok(none instanceof ClusterError);
    assert.equal(none.code, 'CLUSTER_PROTOCOL');
    assert.equal(none.message, 'no common protocol version: this node speaks 1..1, the peer requires 2..3');
  });

  it('ignores unknown message types and drops unknown fields', () => {
    assert.equal(parseMessage({ v: 2, type: 'gossip-v2', anything: true }), undefined);
    const hello = parseMessage({ v: 3, type: 'hello', ...identity, protocol: { min: 1, max: 3, extra: 1 }, future: 'x' });
    assert.deepEqual(hello, { v: 3, type: 'hello', ...identity, protocol: { min: 1, max: 3 } });
    assert.deepEqual(parseMessage({ v: 1, type: 'leave', reason: 'upgrade' }), { v: 1, type: 'leave' });
    // A role from a later version counts as an engine rather than breaking the member list.
    const heartbeat = parseMessage({ v: 1, type: 'heartbeat', members: [{ index: 1, instanceId: 'x', address: 'h:1',
      role: 'witness' }] });
    assert.deepEqual(heartbeat, { v: 1, type: 'heartbeat', members: [{ index: 1, instanceId: 'x', address: 'h:1',
      role: 'engine' }] });
  });

  it('rejects malformed known messages with CLUSTER_PROTOCOL', () => {
    for (const raw of [
      null, [], 'hello', { type: 1 }, { type: 'leave' }, { v: 0, type: 'leave' },
      { v: 1, type: 'hello', ...identity, index: 70_000, protocol: { min: 1, max: 1 } },
      { v: 1, type: 'hello', ...identity, protocol: { min: 2, max: 1 } },
      { v: 1, type: 'hello', ...identity, address: 'x'.repeat(300), protocol: { min: 1, max: 1 } },
      { v: 1, type: 'request', id: -1, method: 'm', timeoutMs: 5 },
      { v: 1, type: 'response', id: 1, ok: 'yes' },
      { v: 1, type: 'response', id: 1, ok: false, error: { code: 5, message: 'm' } },
      { v: 1, type: 'heartbeat', members: {} },
    ]) {
      assert.throws(() => parseMessage(raw), { code: 'CLUSTER_PROTOCOL' }, JSON.stringify(raw));
    }
  });

  it('keeps request payloads and response results as sent', () => {
    assert.deepEqual(parseMessage({ v: 1, type: 'request', id: 7, method: 'm', timeoutMs: 100, payload: { a: [1] } }),
      { v: 1, type: 'request', id: 7, method: 'm', timeoutMs: 100, payload: { a: [1] } });
    assert.deepEqual(parseMessage({ v: 1, type: 'request', id: 7, method: 'm', timeoutMs: 100 }),
      { v: 1, type: 'request', id: 7, method: 'm', timeoutMs: 100 });
    assert.deepEqual(parseMessage({ v: 1, type: 'response', id: 7, ok: true, result: 0 }),
      { v: 1, type: 'response', id: 7, ok: true, result: 0 });
  });

  it('a hello from a newer node negotiates down; unknown messages from it are ignored', async () => {
    const [node] = await startCluster(1);
    try {
      const socket = await connectRaw(node!.address, 'test', testSecret());
      const reader = frameReader(socket);
      socket.write(frame({ v: 5, type: 'hello', ...identity, protocol: { min: 1, max: 5 }, features: ['x'] }));
      await waitFor(() => reader.messages.length >= 1, 2_000, 'welcome');
      const welcome = reader.messages[0] as Record<string, unknown>;
      assert.equal(welcome.type, 'welcome');
      assert.equal(welcome.v, PROTOCOL_VERSION, 'the highest version both speak');
      assert.deepEqual(welcome.protocol, { ...SUPPORTED_PROTOCOL });
      assert.equal(welcome.index, 0);
      await waitFor(() => node!.aliveMembers().length === 1, 2_000, 'the newer node to join');
      assert.equal(node!.aliveMembers()[0]!.protocolVersion, PROTOCOL_VERSION);
      assert.equal(node!.aliveMembers()[0]!.version, '9.9.9');

      // A message type this version does not know, then a request: the connection carries on.
      socket.write(frame({ v: 1, type: 'digest-v5', blob: 'x' }));
      socket.write(frame({ v: 1, type: 'request', id: 1, method: 'nobody', timeoutMs: 1_000, hint: 'new' }));
      const responses = () => reader.messages.filter((m) => (m as { type: string }).type === 'response');
      await waitFor(() => responses().length === 1, 2_000, 'the answer');
      assert.deepEqual(responses()[0], { v: PROTOCOL_VERSION, type: 'response', id: 1, ok: false,
        error: { code: 'CLUSTER_NO_HANDLER', message: "no handler for RPC method 'nobody'" } });
      assert.equal(reader.closed(), false);
      socket.destroy();
    } finally {
      await stopAll([node]);
    }
  });

  it('refuses a node that requires a version this one does not speak, and says so', async () => {
    const [node] = await startCluster(1);
    try {
      const socket = await connectRaw(node!.address, 'test', testSecret());
      const reader = frameReader(socket);
      socket.write(frame({ v: 3, type: 'hello', ...identity, protocol: { min: 3, max: 4 } }));
      await waitFor(() => reader.closed(), 2_000, 'the refusal and close');
      assert.deepEqual(reader.messages, [{ v: PROTOCOL_VERSION, type: 'refuse', code: 'CLUSTER_PROTOCOL',
        reason: `no common protocol version: this node speaks ${SUPPORTED_PROTOCOL.min}..${SUPPORTED_PROTOCOL.max}, `
          + 'the peer requires 3..4' }]);
      assert.deepEqual(node!.members(), []);
    } finally {
      await stopAll([node]);
    }
  });

  it('refuses a first message that is not a hello', async () => {
    const [node] = await startCluster(1);
    try {
      const socket = await connectRaw(node!.address, 'test', testSecret());
      const reader = frameReader(socket);
      socket.write(frame({ v: 1, type: 'request', id: 1, method: 'x', timeoutMs: 100 }));
      await waitFor(() => reader.closed(), 2_000, 'close');
      assert.equal((reader.messages[0] as { type: string }).type, 'refuse');
    } finally {
      await stopAll([node]);
    }
  });

  it('loses nothing the acceptor sends in the same read as its welcome', async () => {
    const node = new ClusterNode(nodeConfig(1));
    let reader: ReturnType<typeof frameReader> | undefined;
    const acceptor = await listenRaw('test', testSecret(), (socket) => {
      reader = frameReader(socket);
      socket.once('data', () => {
        // Welcome, then a request, in one write: they arrive together and are parsed in one go.
        socket.write(Buffer.concat([
          frame({ v: 1, type: 'welcome', ...identity, index: 0, instanceId: 'acceptor', protocol: { min: 1, max: 1 },
            members: [] }),
          frame({ v: 1, type: 'request', id: 77, method: 'ping', timeoutMs: 2_000 }),
        ]));
      });
    });
    try {
      node.handle('ping', () => 'pong');
      node.setInitialHosts([acceptor.address]);
      await node.start();
      assert.deepEqual(node.aliveMembers().map((m) => m.instanceId), ['acceptor']);
      const answered = () => reader!.messages.find((m) => (m as { type: string }).type === 'response');
      await waitFor(() => answered() !== undefined, 2_000, 'the answer');
      assert.deepEqual(answered(), { v: 1, type: 'response', id: 77, ok: true, result: 'pong' });
    } finally {
      await node.stop({ leave: false });
      await acceptor.close();
    }
  });
});
