// The fake network must behave like the real back channel wherever the peer backend depends on it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError } from '../../cluster/errors.js';
import type { MemberInfo } from '../../cluster/types.js';
import { FakeNetwork } from './fake-network.js';

const rejection = (promise: Promise<unknown>) => promise.then(() => assert.fail('should reject'), (e: unknown) => e as ClusterError);

describe('FakeNetwork', () => {
  it('copies payloads and results through JSON and reports who called', async () => {
    const net = new FakeNetwork();
    const kept: unknown[] = [];
    net.rpc(2).handle('echo', (payload, from) => {
      kept.push(payload);
      return { from: from.index, payload, when: new Date(0), gone: undefined };
    });
    const payload = { list: [1, { a: 'b' }] };
    const result = await net.rpc(1).call<Record<string, unknown>>(2, 'echo', payload);
    assert.deepEqual(result, { from: 1, payload, when: '1970-01-01T00:00:00.000Z' });
    assert.notEqual(kept[0], payload);
  });

  it('maps errors like the real transport', async () => {
    const net = new FakeNetwork();
    net.rpc(2).handle('fail', () => {
      throw Object.assign(new Error('nope'), { code: 'STATE_UNAVAILABLE' });
    });
    net.rpc(2).handle('bug', () => {
      throw new TypeError('x is undefined');
    });
    const remote = await rejection(net.rpc(1).call(2, 'fail'));
    assert.equal(remote.code, 'CLUSTER_REMOTE');
    assert.equal(remote.remoteCode, 'STATE_UNAVAILABLE');
    assert.equal((await rejection(net.rpc(1).call(2, 'bug'))).remoteCode, 'CLUSTER_REMOTE');
    assert.equal((await rejection(net.rpc(1).call(2, 'missing'))).code, 'CLUSTER_NO_HANDLER');
    assert.throws(() => net.rpc(2).handle('fail', () => null), /already registered/);
  });

  it('times out slow calls and fails calls in flight when the callee dies', async () => {
    const net = new FakeNetwork({ delayMs: 200 });
    net.rpc(2).handle('slow', () => 'late');
    assert.equal((await rejection(net.rpc(1).call(2, 'slow', null, { timeoutMs: 50 }))).code, 'CLUSTER_TIMEOUT');
    const inFlight = rejection(net.rpc(1).call(2, 'slow'));
    net.kill(2);
    assert.equal((await inFlight).code, 'CLUSTER_UNREACHABLE');
    assert.equal((await rejection(net.rpc(1).call(2, 'slow'))).code, 'CLUSTER_UNREACHABLE');
    assert.equal((await rejection(net.rpc(2).call(1, 'slow'))).code, 'CLUSTER_STOPPED');
  });

  it('counts quorum over the configured members and emits membership events', async () => {
    const net = new FakeNetwork();
    const seen: string[] = [];
    net.rpc(1).on('member.failed', (m: MemberInfo) => seen.push(`failed ${m.index}`));
    net.rpc(1).on('member.joined', (m: MemberInfo) => seen.push(`joined ${m.index}`));
    const instance = net.node(3).instanceId;
    net.kill(3);
    assert.equal(net.rpc(1).status().state, 'quorum');
    assert.deepEqual(net.rpc(1).aliveMembers().map((m) => m.index), [2]);
    assert.deepEqual(net.rpc(1).status().members.map((m) => [m.index, m.state, m.self]),
      [[1, 'alive', true], [2, 'alive', false], [3, 'dead', false]]);
    net.kill(2);
    assert.equal(net.rpc(1).status().state, 'read-only');
    assert.equal(net.rpc(2).status().state, 'unavailable');
    net.revive(3);
    assert.notEqual(net.node(3).instanceId, instance, 'a revived node is a new instance');
    assert.equal(net.rpc(1).status().state, 'quorum');
    assert.deepEqual(seen, ['failed 3', 'failed 2', 'joined 3']);
    for (const index of [1, 2, 3]) net.rpc(index).handle('x', () => index);
    const majority = await net.rpc(3).callMajority('x');
    assert.equal(majority.needed, 2);
    assert.deepEqual(majority.answers.map((a) => a.value).sort(), [1, 3], 'node 2 is dead and cannot answer');
    assert.deepEqual((await net.rpc(1).broadcast('x')).map((r) => [r.index, r.ok]), [[3, true]]);
  });
});
