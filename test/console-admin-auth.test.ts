// Every admin API route of the console refuses a caller without credentials (401), with a wrong token (401) and a
// signed-in account without the admin role (403), before it reads any input or does anything. Table-driven: a
// route added to the API belongs in ROUTES.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';

const ROUTES: Array<[method: string, path: string]> = [
  ['GET', '/admin/api/sessions'],
  ['DELETE', '/admin/api/sessions/AAAAAAAAAAAAAAAAAAAAAA'],
  ['DELETE', '/admin/api/users/alice/sessions'],
  ['GET', '/admin/api/cluster'],
  ['GET', '/admin/api/cluster/connectivity'],
  ['POST', '/admin/api/nodes/1/sync'],
  ['GET', '/admin/api/config'],
  ['GET', '/admin/api/config/diff'],
  ['POST', '/admin/api/config/publish'],
  ['GET', '/admin/api/config/versions'],
  ['GET', '/admin/api/settings'],
  ['PUT', '/admin/api/settings'],
  ['GET', '/admin/api/clients'],
  ['POST', '/admin/api/clients'],
  ['GET', '/admin/api/clients/some-client'],
  ['PUT', '/admin/api/clients/some-client'],
  ['DELETE', '/admin/api/clients/some-client'],
  ['GET', '/admin/api/service-providers'],
  ['POST', '/admin/api/service-providers'],
  ['GET', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'],
  ['PUT', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'],
  ['DELETE', '/admin/api/service-providers/https%3A%2F%2Fsp.example.org'],
  ['GET', '/admin/api/keys'],
  ['POST', '/admin/api/keys/rotate'],
  ['POST', '/admin/api/keys/some-kid/retire'],
  ['GET', '/admin/api/audit'],
  ['GET', '/admin/api/stats'],
];

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('console admin API: authentication on every route', { timeout: 120_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.create({ size: 1, console: true });
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: 'a long enough password', env: cluster.env() })).code, 0);
    await cluster.startAll();
    await cluster.waitReady();
  });

  after(async () => { await cluster?.stop(); });

  for (const [method, path] of ROUTES) {
    it(`${method} ${path}`, async () => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const none = await cluster.api(method, path, body, '');
      assert.equal(none.status, 401, `no credentials: ${JSON.stringify(none.body)}`);
      const wrong = await cluster.api(method, path, body, 'Bearer not-the-admin-token-but-long-enough-000');
      assert.equal(wrong.status, 401, 'wrong token');
      const user = await cluster.api(method, path, body, basic('alice', 'a long enough password'));
      assert.equal(user.status, 403, `a user without the admin role: ${JSON.stringify(user.body)}`);
      assert.equal(user.body.error, 'ADMIN_FORBIDDEN');
    });
  }

  it('lets the admin token and an admin account through', async () => {
    assert.equal((await cluster.api('GET', '/admin/api/config')).status, 200);
    assert.equal((await cluster.api('GET', '/admin/api/config', undefined, basic('admin', 'admin-password-for-tests'))).status, 200);
  });
});
