// Last-writer-wins storage, the version clock and catch-up paging: the pieces every peer service stands on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../manual-clock.js';
import { MAX_PAGE_RECORDS, Pager } from './pager.js';
import { compareVersions, VersionClock, type Entry } from './version.js';
import { VersionedMap } from './versioned-map.js';

const entry = (value: string | null, ts: number, expiresAt: number, node = 1): Entry<string> =>
  ({ value, expiresAt, version: { ts, node } });

function map(clock = new ManualClock(), maxEntries = 10) {
  const removed: string[] = [];
  const stored: string[] = [];
  const m = new VersionedMap<string>({
    maxEntries, policy: 'lru', clock, sweepIntervalMs: 0,
    onStored: (k, v) => stored.push(`${k}=${v}`),
    onRemoved: (k, v, reason) => removed.push(`${k}=${v}:${reason}`),
  });
  return { m, clock, removed, stored, at: (ms: number) => clock.now() + ms };
}

describe('VersionedMap', () => {
  it('keeps the newest version whatever order writes arrive in', () => {
    const { m, at, stored, removed } = map();
    assert.equal(m.apply('k', entry('v2', 2, at(1_000))), true);
    assert.equal(m.apply('k', entry('v1', 1, at(1_000))), false, 'an older replica arriving late');
    assert.equal(m.apply('k', entry('v2-other-node', 2, at(1_000), 0)), false, 'ties go to the higher node');
    assert.equal(m.get('k')?.value, 'v2');
    assert.equal(m.apply('k', entry('v3', 3, at(1_000))), true);
    assert.deepEqual(stored, ['k=v2', 'k=v3']);
    assert.deepEqual(removed, ['k=v2:replaced']);
  });

  it('remembers a deletion so an older copy cannot bring the record back', () => {
    const { m, at, removed } = map();
    m.apply('k', entry('v1', 1, at(1_000)));
    assert.equal(m.apply('k', entry(null, 2, at(1_000))), true);
    assert.equal(m.get('k'), undefined);
    assert.equal(m.newest('k')?.value, null);
    assert.equal(m.apply('k', entry('v1', 1, at(1_000))), false, 'stale replica refused');
    assert.equal(m.get('k'), undefined);
    assert.equal(m.apply('k', entry('v3', 3, at(1_000))), true, 'a newer write after the delete counts');
    assert.equal(m.get('k')?.value, 'v3');
    assert.deepEqual(removed, ['k=v1:deleted']);
    assert.deepEqual(m.sizes(), { live: 1, tombstones: 0 });
  });

  it('forgets tombstones when the record would have expired, and never stores an expired entry', () => {
    const { m, clock, at } = map();
    m.apply('k', entry(null, 2, at(100)));
    assert.equal(m.apply('gone', entry('x', 1, at(-1))), false);
    assert.equal(m.newest('gone'), undefined);
    clock.advance(100);
    assert.equal(m.newest('k'), undefined);
    assert.equal(m.apply('k', entry('old', 1, at(1_000))), true, 'after expiry nothing is left to protect');
  });

  it('keeps tombstones apart from the cap on live entries', () => {
    const { m, at } = map(new ManualClock(), 2);
    m.apply('a', entry('a', 1, at(1_000)));
    m.apply('b', entry('b', 1, at(1_000)));
    m.apply('x', entry(null, 1, at(1_000)));
    m.apply('y', entry(null, 1, at(1_000)));
    assert.deepEqual([...m.liveEntries()].map(([k]) => k), ['a', 'b']);
    assert.deepEqual(m.keys().sort(), ['a', 'b', 'x', 'y']);
  });

  it('caches a key placement per epoch and drops a copy without a trace', () => {
    const { m, at } = map();
    m.apply('k', entry('v', 1, at(1_000)));
    let computed = 0;
    const compute = () => [++computed];
    assert.deepEqual(m.orderOf('k', 1, compute), [1]);
    assert.deepEqual(m.orderOf('k', 1, compute), [1]);
    assert.deepEqual(m.orderOf('k', 2, compute), [2]);
    assert.deepEqual(m.orderOf('absent', 2, compute), [3], 'keys not held are computed every time');
    m.drop('k');
    assert.equal(m.newest('k'), undefined);
  });
});

describe('VersionClock', () => {
  it('hands out strictly increasing versions, past the current one and past versions seen elsewhere', () => {
    let now = 1_000;
    const clock = new VersionClock(2, () => now);
    const a = clock.next();
    const b = clock.next();
    assert.ok(compareVersions(b, a) > 0);
    const ahead = { ts: 5_000, node: 7 };
    assert.ok(clock.next(ahead).ts > ahead.ts);
    clock.observe({ ts: 9_000, node: 1 });
    assert.ok(clock.next().ts > 9_000);
    now = 20_000;
    assert.equal(clock.next().ts, 20_000);
  });
});

describe('Pager', () => {
  const items = new Map<string, string>(Array.from({ length: 4_500 }, (_, i) => [`k${i}`, 'x'.repeat(100)]));
  const read = (k: string) => items.get(k);

  it('hands out a snapshot in pages of at most MAX_PAGE_RECORDS, then forgets it', () => {
    const pager = new Pager({ clock: new ManualClock(), ttlMs: 1_000, maxPageBytes: 4 * 1024 * 1024 });
    const seen: string[] = [];
    let page = pager.page(2, undefined, () => [...items.keys()], read);
    let pages = 1;
    seen.push(...page.items.map(([k]) => k));
    while (page.cursor !== null) {
      assert.equal(page.items.length, MAX_PAGE_RECORDS);
      page = pager.page(2, page.cursor, () => assert.fail('snapshot taken once'), read);
      seen.push(...page.items.map(([k]) => k));
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...items.keys()]);
  });

  it('cuts pages by bytes, skips keys gone meanwhile, and refuses unknown or foreign cursors', () => {
    const clock = new ManualClock();
    const pager = new Pager({ clock, ttlMs: 1_000, maxPageBytes: 1_024 });
    const first = pager.page(2, undefined, () => ['k0', 'missing', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10'], read);
    assert.ok(first.items.length >= 5 && first.items.length <= 9, `${first.items.length} items of ~115 bytes in 1 KiB`);
    assert.ok(!first.items.some(([k]) => k === 'missing'));
    assert.throws(() => pager.page(3, first.cursor!, () => [], read), /cursor/);
    assert.throws(() => pager.page(2, 'nonsense:0', () => [], read), /cursor/);
    clock.advance(1_000);
    assert.throws(() => pager.page(2, first.cursor!, () => [], read), /cursor/, 'expired');
  });
});
