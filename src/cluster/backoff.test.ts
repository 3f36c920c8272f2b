import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExponentialBackoff } from './backoff.js';

describe('ExponentialBackoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after reset', () => {
    const backoff = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    assert.deepEqual(Array.from({ length: 6 }, () => backoff.next()), [100, 200, 400, 800, 1000, 1000]);
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });

  it('stays within ±jitter and never exceeds the cap, even after very many failures', () => {
    const low = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.2, random: () => 0 });
    const high = new ExponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.2, random: () => 0.999999 });
    assert.equal(low.next(), 80);
    assert.equal(high.next(), 120);
    for (let i = 0; i < 2000; i++) {
      assert.ok(high.next() <= 1000);
      assert.ok(low.next() >= 1);
    }
    assert.equal(low.next(), 800);
  });

  it('rejects nonsensical options', () => {
    assert.throws(() => new ExponentialBackoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new ExponentialBackoff({ initialMs: 10, maxMs: 5 }), RangeError);
    assert.throws(() => new ExponentialBackoff({ jitter: 1 }), RangeError);
  });
});
