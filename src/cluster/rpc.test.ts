import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClusterClock } from './cluster-harness.js';
import { ClusterError } from './errors.js';
import type { RequestMessage } from './protocol.js';
import { RpcEngine } from './rpc.js';

/** An engine whose "network" is a list of sent requests; tests answer them by hand. */
function setup(options: { alive?: number[]; configured?: number } = {}) {
  const clock = new ManualClusterClock();
  const sent: Array<{ index: number; request: Omit<RequestMessage, 'v'> }> = [];
  const alive = new Set(options.alive ?? [1, 2]);
  const engine = new RpcEngine({
    clock,
    defaultTimeoutMs: 1000,
    self: () => ({ index: 0, address: 'me:1', role: 'engine', instanceId: 'i-0' }),
    isAlive: (i) => alive.has(i),
    aliveIndices: () => [...alive],
    configuredMembers: () => options.configured ?? 3,
    send: (index, request) => {
      if (index === 9) throw new ClusterError('CLUSTER_OVERLOADED', 'full');
      sent.push({ index, request });
    },
  });
  const reply = (n: number, result: unknown) => {
    const { index, request } = sent[n]!;
    engine.receive(index, { v: 1, type: 'response', id: request.id, ok: true, result });
  };
  return { clock, sent, alive, engine, reply };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('RpcEngine', () => {
  it('sends a request with its deadline and resolves with the answer of that member only', async () => {
    const { sent, engine, reply } = setup();
    const call = engine.call(1, 'get', { id: 'x' }, { timeoutMs: 250 });
    assert.deepEqual(sent[0], { index: 1, request: { type: 'request', id: 1, method: 'get', payload: { id: 'x' },
      timeoutMs: 250 } });
    engine.receive(2, { v: 1, type: 'response', id: 1, ok: true, result: 'forged' }); // wrong member: ignored
    reply(0, { found: true });
    assert.deepEqual(await call, { found: true });
  });

  it('times out at the deadline with CLUSTER_TIMEOUT, and a late answer changes nothing', async () => {
    const { clock, engine, reply } = setup();
    const box: { error?: unknown } = {};
    engine.call(1, 'slow', null, { timeoutMs: 500 }).catch((e: unknown) => { box.error = e; });
    clock.advance(499);
    await settled();
    assert.equal(box.error, undefined);
    clock.advance(1);
    await settled();
    const error = box.error as unknown;
    assert.ok(error instanceof ClusterError && error.code === 'CLUSTER_TIMEOUT' && error.member === 1);
    reply(0, 'late');
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('fails fast for a member that is not alive, cannot be sent to, or goes away', async () => {
    const { engine, alive } = setup({ alive: [1, 9] });
    await assert.rejects(engine.call(5, 'x'), { code: 'CLUSTER_UNREACHABLE', member: 5 });
    await assert.rejects(engine.call(9, 'x'), { code: 'CLUSTER_OVERLOADED' });
    const pending = engine.call(1, 'x');
    alive.delete(1);
    engine.memberGone(1, 'it failed');
    await assert.rejects(pending, { code: 'CLUSTER_UNREACHABLE', message: /it failed/ });
    await assert.rejects(engine.call(1, 'x', null, { timeoutMs: 0 }), RangeError);
  });

  it('maps remote errors to CLUSTER_REMOTE with the remote code, and a missing handler to CLUSTER_NO_HANDLER', async () => {
    const { sent, engine } = setup();
    const a = engine.call(1, 'a');
    const b = engine.call(1, 'b');
    engine.receive(1, { v: 1, type: 'response', id: sent[0]!.request.id, ok: false,
      error: { code: 'STATE_CONFLICT', message: 'taken' } });
    engine.receive(1, { v: 1, type: 'response', id: sent[1]!.request.id, ok: false,
      error: { code: 'CLUSTER_NO_HANDLER', message: "no handler for RPC method 'b'" } });
    await assert.rejects(a, { code: 'CLUSTER_REMOTE', remoteCode: 'STATE_CONFLICT', member: 1, message: /taken/ });
    await assert.rejects(b, { code: 'CLUSTER_NO_HANDLER' });
  });

  it('answers requests with results or { code, message } errors, never stacks', async () => {
    const { engine } = setup();
    engine.handle('ok', (payload, from) => ({ payload, from: from.index }));
    engine.handle('coded', () => { throw Object.assign(new Error('nope'), { code: 'STATE_UNAVAILABLE' }); });
    engine.handle('plain', () => { throw new TypeError('x is undefined'); });
    engine.handle('odd', () => { throw Object.assign(new Error('bad code'), { code: 'lower case; DROP' }); });
    const from = { index: 2, address: 'b:2', role: 'engine' as const, instanceId: 'i-2' };
    const ask = (method: string) => engine.answer({ v: 1, type: 'request', id: 4, method, timeoutMs: 100, payload: 7 }, from);
    assert.deepEqual(await ask('ok'), { type: 'response', id: 4, ok: true, result: { payload: 7, from: 2 } });
    assert.deepEqual(await ask('coded'), { type: 'response', id: 4, ok: false,
      error: { code: 'STATE_UNAVAILABLE', message: 'nope' } });
    assert.deepEqual(await ask('plain'), { type: 'response', id: 4, ok: false,
      error: { code: 'CLUSTER_REMOTE', message: 'x is undefined' } });
    assert.deepEqual((await ask('odd'))?.error?.code, 'CLUSTER_REMOTE');
    assert.deepEqual(await ask('none'), { type: 'response', id: 4, ok: false,
      error: { code: 'CLUSTER_NO_HANDLER', message: "no handler for RPC method 'none'" } });
  });

  it('gives up answering once the caller has stopped waiting', async () => {
    const { clock, engine } = setup();
    engine.handle('hang', () => new Promise(() => undefined));
    const from = { index: 2, address: 'b:2', role: 'engine' as const, instanceId: 'i-2' };
    const answer = engine.answer({ v: 1, type: 'request', id: 1, method: 'hang', timeoutMs: 50 }, from);
    clock.advance(50);
    assert.equal(await answer, undefined);
    assert.equal(clock.pending, 0);
  });

  it('calls itself through the same JSON copy and error mapping', async () => {
    const { engine } = setup();
    const stored = { list: [1] };
    engine.handle('get', () => stored);
    engine.handle('put', (payload) => { (payload as { list: number[] }).list.push(2); return null; });
    engine.handle('fail', () => { throw Object.assign(new Error('x'), { code: 'E_X' }); });
    const got = await engine.call<{ list: number[] }>(0, 'get');
    got.list.push(99);
    assert.deepEqual(stored, { list: [1] }, 'the caller cannot mutate the handler\'s state');
    const mine = { list: [1] };
    await engine.call(0, 'put', mine);
    assert.deepEqual(mine, { list: [1] }, 'the handler cannot mutate the caller\'s payload');
    await assert.rejects(engine.call(0, 'fail'), { code: 'CLUSTER_REMOTE', remoteCode: 'E_X', member: 0 });
    await assert.rejects(engine.call(0, 'missing'), { code: 'CLUSTER_NO_HANDLER' });
    await assert.rejects(engine.call(0, 'get', { n: 1n }), { code: 'CLUSTER_PROTOCOL' });
  });

  it('broadcasts to every alive member and settles with one result each', async () => {
    const { clock, sent, engine, reply } = setup({ alive: [2, 1] });
    engine.handle('ping', () => 'self');
    const results = engine.broadcast('ping', null, { timeoutMs: 100, includeSelf: true });
    await settled();
    reply(sent.findIndex((s) => s.index === 2), 'two');
    clock.advance(100); // member 1 never answers
    const out = await results;
    assert.deepEqual(out.map((r) => [r.index, r.ok]), [[0, true], [1, false], [2, true]]);
    assert.equal(out[1]!.ok === false && out[1]!.error.code, 'CLUSTER_TIMEOUT');
    assert.deepEqual(out[2]!.ok && out[2]!.value, 'two');
  });

  it('callMajority counts self, resolves at the majority, and refuses when one is impossible', async () => {
    const { clock, sent, engine, reply } = setup({ alive: [1, 2], configured: 3 });
    engine.handle('vote', () => 'me');
    const majority = engine.callMajority<string>('vote');
    await settled();
    reply(0, 'one');
    const result = await majority; // self + member 1; member 2 not awaited
    assert.equal(result.needed, 2);
    assert.deepEqual(result.answers.map((a) => a.value).sort(), ['me', 'one']);
    clock.advance(1000);

    const lonely = setup({ alive: [1], configured: 5 });
    lonely.engine.handle('vote', () => 'me');
    await assert.rejects(lonely.engine.callMajority('vote'), { code: 'CLUSTER_NO_QUORUM', message: /needs 3 answers but only 2/ });
    assert.equal(lonely.sent.length, 0, 'nothing sent when a majority is impossible from the start');
    await assert.rejects(lonely.engine.callMajority('vote', null, { includeSelf: false }), { code: 'CLUSTER_NO_QUORUM' });
    assert.ok(sent.length >= 2);
  });

  it('close() fails everything pending and every later call, leaving no timer', async () => {
    const { clock, engine } = setup();
    engine.handle('hang', () => new Promise(() => undefined));
    const remote = engine.call(1, 'x');
    const local = engine.call(0, 'hang');
    engine.close(new ClusterError('CLUSTER_STOPPED', 'stopped'));
    await assert.rejects(remote, { code: 'CLUSTER_STOPPED' });
    await assert.rejects(local, { code: 'CLUSTER_STOPPED' });
    await assert.rejects(engine.call(1, 'x'), { code: 'CLUSTER_STOPPED' });
    assert.equal(clock.pending, 0);
  });

  it('refuses a second handler for one method, and unregisters only its own', () => {
    const { engine } = setup();
    const off = engine.handle('m', () => 1);
    assert.throws(() => engine.handle('m', () => 2), /already registered/);
    off();
    const off2 = engine.handle('m', () => 3);
    off();
    assert.equal(engine.hasHandler('m'), true);
    off2();
    assert.equal(engine.hasHandler('m'), false);
  });
});
