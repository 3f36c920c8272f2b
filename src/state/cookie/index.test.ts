// Cookie mode as createNodeState wires it from configuration: standalone, in a cluster (its key sync is part of
// catch-up), and a bad static key refused before anything starts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/load.js';
import { createNodeState } from '../index.js';
import { FakeNetwork } from '../peer/fake-network.js';
import { FakeBrowser } from './fake-exchange.js';
import { CookieInterRequestStore } from './cookie-inter-request-store.js';
import { INFO_METHOD } from './key-ring.js';

const config = (env: NodeJS.ProcessEnv) => loadConfig({
  env: { COHORT_STATE_BACKEND_INTER_REQUEST: 'cookie', ...env }, overrides: { dataDir: '/nonexistent/cohort-cookie-test' },
});

describe('cookie mode wiring', () => {
  it('standalone: the interRequest service is the cookie store, ready after catch-up', async () => {
    const state = createNodeState(config({}), undefined);
    assert.ok(state.services.interRequest instanceof CookieInterRequestStore);
    assert.deepEqual((await state.catchUp()).completed, true);
    const browser = new FakeBrowser();
    await browser.run(() => state.services.interRequest.put('tx', { step: 1 }, Date.now() + 60_000));
    assert.deepEqual(await browser.run(() => state.services.interRequest.get('tx')), { step: 1 });
    await state.services.close();
  });

  it('in a cluster: catch-up fetches the keys, so a node reads what another node wrote; close unregisters', async () => {
    const net = new FakeNetwork({ indexes: [1, 2] });
    const engine = (index: number) => config({ COHORT_NODE_ROLE: 'engine', COHORT_NODE_INDEX: String(index) });
    const first = createNodeState(engine(1), net.rpc(1));
    await first.catchUp();
    const second = createNodeState(engine(2), net.rpc(2));
    assert.ok((await second.catchUp()).completed);
    const browser = new FakeBrowser();
    await browser.run(() => first.services.interRequest.put('tx', { step: 1 }, Date.now() + 60_000));
    assert.deepEqual(await browser.run(() => second.services.interRequest.get('tx')), { step: 1 });
    await first.services.close();
    await second.services.close();
    assert.equal(net.node(1).handlers.has(INFO_METHOD), false);
  });

  it('refuses a static key that is not 32 bytes of base64url, and uses a good one on every node', async () => {
    assert.throws(() => createNodeState(config({ COHORT_STATE_COOKIE_STATIC_KEY: 'not-a-key' }), undefined),
      (err: Error & { code?: string }) => err.code === 'STATE_CONFIG' && /32 random bytes/.test(err.message));
    const staticKey = randomBytes(32).toString('base64url');
    const [a, b] = [1, 2].map(() => createNodeState(config({ COHORT_STATE_COOKIE_STATIC_KEY: staticKey }), undefined));
    const browser = new FakeBrowser();
    await browser.run(() => a!.services.interRequest.put('tx', { step: 2 }, Date.now() + 60_000));
    assert.deepEqual(await browser.run(() => b!.services.interRequest.get('tx')), { step: 2 });
    await a!.services.close();
    await b!.services.close();
  });
});
