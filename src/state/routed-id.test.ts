import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownerIndexOf, routedId } from './routed-id.js';

describe('routed ids', () => {
  it('round-trips every node index', () => {
    for (const index of [0, 1, 35, 36, 1295, 65_535]) assert.equal(ownerIndexOf(routedId(index)), index);
  });
  it('is unique and URL/cookie safe', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => routedId(7)));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}\.7$/);
  });
  it('reports no owner for ids the cluster did not create', () => {
    // no suffix, upper case, too long, and above 65535 ('1jls' is 72064 in base 36)
    for (const id of ['_abc123', 'plainnanoid', 'x.ZZZ', 'x.zzzzz', 'x.1jls']) assert.equal(ownerIndexOf(id), undefined);
    assert.equal(ownerIndexOf('abc.'), undefined);
  });
  it('refuses an out-of-range index', () => {
    assert.throws(() => routedId(65_536), RangeError);
    assert.throws(() => routedId(-1), RangeError);
  });
});
