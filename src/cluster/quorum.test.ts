import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countMembers, majorityOf, quorumState } from './quorum.js';

describe('quorum', () => {
  it('follows the design examples', () => {
    assert.equal(quorumState({ serving: true, configuredMembers: 2, reachableMembers: 1 }), 'read-only');
    assert.equal(quorumState({ serving: true, configuredMembers: 3, reachableMembers: 2 }), 'quorum');
    assert.equal(quorumState({ serving: true, configuredMembers: 3, reachableMembers: 1 }), 'read-only');
    assert.equal(quorumState({ serving: true, configuredMembers: 1, reachableMembers: 1 }), 'quorum');
    assert.equal(quorumState({ serving: false, configuredMembers: 3, reachableMembers: 3 }), 'unavailable');
  });

  it('needs strictly more than half, for every cluster size up to 9', () => {
    for (let configured = 1; configured <= 9; configured++) {
      for (let reachable = 0; reachable <= configured; reachable++) {
        const expected = reachable * 2 > configured ? 'quorum' : 'read-only';
        assert.equal(quorumState({ serving: true, configuredMembers: configured, reachableMembers: reachable }), expected,
          `${reachable} of ${configured}`);
      }
      assert.equal(majorityOf(configured), Math.floor(configured / 2) + 1);
    }
  });

  it('never counts more reachable than configured', () => {
    assert.equal(quorumState({ serving: true, configuredMembers: 4, reachableMembers: 9 }), 'quorum');
    assert.equal(quorumState({ serving: true, configuredMembers: 0, reachableMembers: 0 }), 'read-only');
  });

  it('counts the configured set as initialHosts ∪ self', () => {
    const links = new Map([
      ['a:1', { isSelf: false, memberIndex: 1 }],
      ['self-alias:9', { isSelf: true, memberIndex: undefined }],
      ['c:3', { isSelf: false, memberIndex: undefined }],
    ]);
    const initialHosts = ['me:9', 'a:1', 'self-alias:9', 'c:3', 'd:4'];
    // me:9 and self-alias:9 are this node: configured = a, c, d + self.
    assert.deepEqual(countMembers({ selfAddress: 'me:9', initialHosts, links, alive: [] }), { configured: 4, reachable: 1 });
    // 1 reached through a's link; 3 advertises c's address; 7 was learned by gossip and is not configured.
    const alive = [{ index: 1, address: 'a-other-name:1' }, { index: 3, address: 'c:3' }, { index: 7, address: 'x:7' }];
    assert.deepEqual(countMembers({ selfAddress: 'me:9', initialHosts, links, alive }), { configured: 4, reachable: 3 });
  });
});
