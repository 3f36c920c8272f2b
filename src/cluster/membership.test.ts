import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClusterClock } from './cluster-harness.js';
import { Membership, type MembershipEvent } from './membership.js';
import type { NodeIdentity } from './protocol.js';
import type { MemberInfo } from './types.js';

function identity(index: number, instanceId = `i-${index}`): NodeIdentity {
  return { cluster: 'test', index, role: 'engine', address: `10.0.0.${index}:7901`, instanceId, version: '1.0.0' };
}

function setup(failureTimeoutMs = 2000) {
  const clock = new ManualClusterClock();
  const events: Array<[MembershipEvent, number, string, string]> = [];
  const membership = new Membership({
    failureTimeoutMs,
    now: () => clock.now(),
    onEvent: (event, m: MemberInfo) => events.push([event, m.index, m.instanceId, m.state]),
  });
  return { clock, events, membership };
}

describe('Membership', () => {
  it('joins a member once per instance and records what it said about itself', () => {
    const { clock, events, membership } = setup();
    membership.join(identity(1), 1);
    clock.advance(100);
    membership.join(identity(1), 1); // a second connection of the same instance
    assert.deepEqual(events, [['member.joined', 1, 'i-1', 'alive']]);
    assert.deepEqual(membership.get(1), { index: 1, address: '10.0.0.1:7901', role: 'engine', state: 'alive',
      lastHeard: clock.now(), version: '1.0.0', instanceId: 'i-1', protocolVersion: 1 });
  });

  it('declares dead only after failureTimeoutMs of silence, and heard() pushes that back', () => {
    const { clock, events, membership } = setup(2000);
    membership.join(identity(1), 1);
    membership.join(identity(2), 1);
    clock.advance(1500);
    assert.equal(membership.heard(1, 'i-1'), true);
    clock.advance(500);
    assert.deepEqual(membership.detectFailures(), [], 'exactly at the timeout is not yet a failure');
    clock.advance(1);
    assert.deepEqual(membership.detectFailures().map((m) => m.index), [2]);
    assert.deepEqual(events.at(-1), ['member.failed', 2, 'i-2', 'dead']);
    assert.equal(membership.isAlive(1), true);
    assert.deepEqual(membership.detectFailures(), [], 'reported once');
    assert.equal(membership.heard(2, 'i-2'), false, 'a dead instance is not revived by a stray frame');
    assert.deepEqual(membership.alive().map((m) => m.index), [1]);
  });

  it('a dead member comes back through a new hello', () => {
    const { clock, events, membership } = setup(100);
    membership.join(identity(1), 1);
    clock.advance(101);
    membership.detectFailures();
    membership.join(identity(1), 1);
    assert.deepEqual(events.map((e) => e[0]), ['member.joined', 'member.failed', 'member.joined']);
    assert.equal(membership.isAlive(1), true);
  });

  it('leave marks left once and ignores other instances', () => {
    const { events, membership } = setup();
    membership.join(identity(1), 1);
    assert.equal(membership.leave(1, 'someone-else'), false);
    assert.equal(membership.leave(1, 'i-1'), true);
    assert.equal(membership.leave(1, 'i-1'), false);
    assert.equal(membership.heard(1, 'i-1'), false);
    assert.deepEqual(events.map((e) => e[0]), ['member.joined', 'member.left']);
    assert.deepEqual(membership.digest(), [], 'departed members are not gossiped');
  });

  it('tells a duplicate from a restart', () => {
    const { events, membership } = setup();
    membership.join(identity(1), 1);
    const newcomer = identity(1, 'i-1-new');
    assert.equal(membership.conflictWith(newcomer, () => true)?.instanceId, 'i-1', 'connected holder: duplicate');
    assert.equal(membership.conflictWith(newcomer, () => false), undefined, 'unconnected holder: taken for crashed');
    assert.equal(membership.conflictWith(identity(1), () => true), undefined, 'same instance');
    membership.join(newcomer, 1);
    assert.deepEqual(events, [['member.joined', 1, 'i-1', 'alive'], ['member.failed', 1, 'i-1', 'dead'],
      ['member.joined', 1, 'i-1-new', 'alive']]);
    assert.equal(membership.heard(1, 'i-1'), false, 'frames of the replaced instance are ignored');
  });

  it('tells which gossiped instances need no new link', () => {
    const { clock, membership } = setup(100);
    const digest = (index: number, instanceId = `i-${index}`) => ({ index, instanceId, address: 'h:1', role: 'engine' as const });
    membership.join(identity(1), 1);
    membership.join(identity(2), 1);
    assert.equal(membership.accountedFor(digest(1), () => true), true, 'alive and connected');
    assert.equal(membership.accountedFor(digest(1), () => false), false, 'alive but its connections dropped');
    assert.equal(membership.accountedFor(digest(1, 'i-1-new'), () => true), false, 'a new instance');
    assert.equal(membership.accountedFor(digest(9), () => true), false, 'unknown');
    membership.leave(2, 'i-2');
    assert.equal(membership.accountedFor(digest(2), () => false), true, 'left: not coming back as this instance');
    clock.advance(101);
    membership.detectFailures();
    assert.equal(membership.accountedFor(digest(1), () => true), false, 'dead: worth dialling again');
  });

  it('hands out copies, never its own records', () => {
    const { membership } = setup();
    membership.join(identity(3), 1);
    membership.all()[0]!.state = 'dead';
    membership.get(3)!.state = 'dead';
    assert.equal(membership.isAlive(3), true);
    assert.deepEqual(membership.digest(), [{ index: 3, instanceId: 'i-3', address: '10.0.0.3:7901', role: 'engine' }]);
  });
});
