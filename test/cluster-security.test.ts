// The back channel admits only holders of the cluster secret: a node with another secret is refused and never
// becomes a member, and plaintext sent to the port gets nothing back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { TestCluster, freePort } from './support/cluster.js';
import { startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { waitFor } from './support/wait.js';

describe('cluster back channel security', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let ports: number[];

  before(async () => {
    cluster = await TestCluster.create({ size: 2 });
    ports = cluster.backChannelPorts;
    await cluster.startAll();
    await waitFor('two members', async () => (await cluster.status(1)).ClusterStatus.members.filter((m) => m.state === 'alive').length === 2, 20_000);
  });

  after(async () => { await cluster?.stop(); });

  it('refuses a node that holds a different secret', async () => {
    const dir = tempDir();
    const intruderPort = await freePort();
    let intruder: CohortProcess | undefined;
    try {
      intruder = await startCohort({
        dataDir: dir.path, timeoutMs: 20_000,
        env: {
          COHORT_ADMIN_PASSWORD: 'intruder-password', COHORT_NODE_ROLE: 'engine', COHORT_NODE_INDEX: '3',
          COHORT_HTTP_ISSUER: cluster.issuer, COHORT_CLUSTER_PORT: String(intruderPort),
          COHORT_CLUSTER_SECRET: randomBytes(32).toString('base64url'),
          COHORT_CLUSTER_INITIAL_HOSTS: [...ports, intruderPort].map((p) => `127.0.0.1:${p}`).join(','),
        },
      }).catch(() => undefined);
      // Whether it gives up at start or keeps running alone, it must never be a member of the cluster.
      await new Promise((r) => setTimeout(r, 3_000));
      for (const i of [1, 2]) {
        const members = (await cluster.status(i)).ClusterStatus.members;
        assert.ok(!members.some((m) => m.index === 3 && m.state === 'alive'), `node ${i} lists the intruder as alive`);
      }
      if (intruder) {
        const seen = (await (await fetch(`${intruder.url}/status/v2`)).json()) as { ClusterStatus: { members: Array<{ index: number; state: string }> } };
        assert.ok(!seen.ClusterStatus.members.some((m) => m.index !== 3 && m.state === 'alive'), 'the intruder reached a member');
      }
      const rejected = [...cluster.nodes.values()].some((n) => n.logs.some((l) => l.includes('cluster.connection_rejected')));
      assert.ok(rejected, 'the members logged the rejected connection');
    } finally {
      await intruder?.stop('SIGKILL');
      dir.remove();
    }
  });

  it('answers plaintext on the back-channel port with nothing readable and closes it', async () => {
    const received = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(ports[0]!, '127.0.0.1');
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => { socket.destroy(); reject(new Error('the back channel kept a plaintext connection open')); }, 10_000);
      socket.on('data', (c) => chunks.push(c));
      socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)); });
      socket.on('error', () => { /* a reset is a close too */ });
      const hello = Buffer.from(JSON.stringify({ v: 1, type: 'hello', index: 9, cluster: 'cohort' }));
      const frame = Buffer.alloc(4 + hello.length);
      frame.writeUInt32BE(hello.length, 0);
      hello.copy(frame, 4);
      socket.write(frame);
    });
    assert.ok(!received.toString('latin1').includes('{'), 'no JSON came back');
    if (received.length > 0) assert.equal(received[0], 0x15, 'anything sent back is a TLS alert record');
  });
});
