import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpsError } from './errors.js';
import { StatusRegistry, safeDetail, type ClusterStatus, type StatusRegistryOptions } from './status.js';

const node = { name: 'n1', index: 4, role: 'engine' as const };
function registry(extra: Partial<StatusRegistryOptions> = {}) {
  return new StatusRegistry({ node, version: '1.2.3', timeoutMs: 100, ...extra });
}
const ok = async () => {};
const hang = () => new Promise<void>(() => {});

describe('StatusRegistry.snapshot', () => {
  it('reports node, version, uptime and each component', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const status = registry({ now: () => now });
    status.register({ name: 'store', critical: true, check: ok });
    status.register({
      name: 'mail', critical: false,
      check: async () => { throw new Error('connect ECONNREFUSED 10.0.0.1:25\n    at TCPConnectWrap.afterConnect'); },
    });
    now += 61_500;
    const body = await status.snapshot();
    assert.deepEqual(body, {
      node, version: '1.2.3', uptimeSeconds: 61, startedAt: '2030-01-01T00:00:00.000Z',
      components: {
        store: { status: 'OK', critical: true },
        mail: { status: 'FAILED', critical: false, detail: 'connect ECONNREFUSED 10.0.0.1:25' },
      },
      ClusterStatus: { readOnly: false, state: 'standalone', members: [{ ...node, state: 'alive', self: true }] },
    });
  });

  it('fails a hung check after its deadline, and runs it only once while it hangs', async () => {
    const status = registry({ timeoutMs: 50 });
    let calls = 0;
    status.register({ name: 'redis', critical: true, check: () => { calls++; return hang(); } });
    const started = Date.now();
    const [a, b] = await Promise.all([status.snapshot(), status.snapshot()]);
    assert.ok(Date.now() - started < 1_000, 'snapshot returns despite the hung check');
    assert.deepEqual(a.components.redis, { status: 'FAILED', critical: true, detail: 'no answer within 50 ms' });
    assert.deepEqual(b.components.redis, a.components.redis);
    await status.snapshot();
    assert.equal(calls, 1, 'a hung check is joined, not started again');
  });

  it('runs a check again once the previous run settled', async () => {
    const status = registry();
    let calls = 0;
    status.register({ name: 'db', critical: true, check: async () => { calls++; } });
    await status.snapshot();
    await status.snapshot();
    assert.equal(calls, 2);
  });

  it('treats a synchronous throw or a non-Error rejection as a failure', async () => {
    const status = registry();
    status.register({ name: 'sync', critical: false, check: () => { throw new Error('boom'); } });
    status.register({ name: 'odd', critical: false, check: () => Promise.reject({ password: 'x' }) });
    const { components } = await status.snapshot();
    assert.deepEqual(components.sync, { status: 'FAILED', critical: false, detail: 'boom' });
    assert.deepEqual(components.odd, { status: 'FAILED', critical: false, detail: 'check failed' });
  });

  it('takes ClusterStatus from the provider; a failing or hung provider reads unavailable', async () => {
    const quorum: ClusterStatus = { readOnly: false, state: 'quorum', members: [{ ...node, state: 'alive', self: true }] };
    assert.deepEqual((await registry({ cluster: () => quorum }).snapshot()).ClusterStatus, quorum);
    const unavailable = { readOnly: true, state: 'unavailable', members: [] };
    assert.deepEqual((await registry({ cluster: () => { throw new Error('x'); } }).snapshot()).ClusterStatus, unavailable);
    assert.deepEqual((await registry({ cluster: () => new Promise<ClusterStatus>(() => {}) }).snapshot()).ClusterStatus, unavailable);
  });
});

describe('StatusRegistry.lbStatus', () => {
  it('is not ok until the node is marked ready', async () => {
    const status = registry();
    assert.deepEqual(await status.lbStatus(), { ok: false, reason: 'starting' });
    status.markReady();
    assert.deepEqual(await status.lbStatus(), { ok: true });
  });

  it('is not ok when a critical component fails or hangs, ok when only others fail', async () => {
    const status = registry({ timeoutMs: 30 });
    status.markReady();
    status.register({ name: 'metrics-push', critical: false, check: async () => { throw new Error('down'); } });
    assert.deepEqual(await status.lbStatus(), { ok: true });
    const removeStore = status.register({ name: 'store', critical: true, check: async () => { throw new Error('disk full at /secret/path'); } });
    status.register({ name: 'state', critical: true, check: hang });
    assert.deepEqual(await status.lbStatus(), { ok: false, reason: 'failed: store, state' }, 'names only, no details');
    removeStore();
    assert.deepEqual(await status.lbStatus(), { ok: false, reason: 'failed: state' });
  });

  it('follows the cluster: unavailable is out of the pool, read-only stays in', async () => {
    let cluster: ClusterStatus = { readOnly: true, state: 'read-only', members: [] };
    const status = registry({ cluster: () => cluster });
    status.markReady();
    assert.deepEqual(await status.lbStatus(), { ok: true });
    cluster = { readOnly: true, state: 'unavailable', members: [] };
    assert.deepEqual(await status.lbStatus(), { ok: false, reason: 'cluster unavailable' });
  });
});

describe('registration and details', () => {
  it('refuses duplicate and nameless checks with a coded OpsError', () => {
    const status = registry();
    status.register({ name: 'store', critical: true, check: ok });
    assert.throws(() => status.register({ name: 'store', critical: false, check: ok }),
      (err: unknown) => err instanceof OpsError && err.code === 'OPS_DUPLICATE_CHECK');
    assert.throws(() => status.register({ name: '', critical: false, check: ok }),
      (err: unknown) => err instanceof OpsError && err.code === 'OPS_INVALID_CHECK');
  });

  it('keeps details to a masked, truncated first line', () => {
    assert.equal(safeDetail(new Error('cannot reach redis://cohort:s3cret@10.0.0.5:6379/0')), 'cannot reach redis://***@10.0.0.5:6379/0');
    const long = safeDetail(new Error('x'.repeat(1_000)));
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('...'));
    assert.equal(safeDetail(new Error('')), 'check failed');
    assert.equal(safeDetail('plain text'), 'plain text');
  });
});
