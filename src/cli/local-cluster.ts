// Starts an N-node Cohort cluster on loopback for trying it out: one `cohort start` child per node sharing one data
// directory (same database, keys and cluster secret), each logging to its own folder, and optionally HAProxy in
// front. Writes cluster.json describing every node. Stops everything on SIGINT/SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, type CliIO } from './command.js';
import { haproxyConfig } from './haproxy.js';
import { ensureClusterSecret } from '../cluster/secret-file.js';
import { openDurableStore, storeBackendOf } from '../store/index.js';
import { bootstrapStore } from '../store/bootstrap.js';
import { loadConfig } from '../config/load.js';

const COHORT_BIN = fileURLToPath(new URL('../../../bin/cohort.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface LocalClusterOptions {
  nodes: number;
  basePort: number;
  backChannelBasePort: number;
  issuer: string;
  dataDir: string;
  balancer?: 'haproxy';
  /** Also start a console (index N+1, out of the balancer): engines then run the configuration it publishes. */
  console?: boolean;
}

interface NodeProcess { index: number; role: 'engine' | 'console'; url: string; backChannelPort: number; child: ChildProcess; log: string }

async function waitReady(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new CliError(`node at ${url} exited with code ${child.exitCode}; see its log`, 1);
    try {
      const res = await fetch(`${url}/status/v2/lbstatus`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`node at ${url} was not ready within ${READY_TIMEOUT_MS / 1000} s`, 1);
}

export async function runLocalCluster(options: LocalClusterOptions, io: CliIO): Promise<number> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const say = (line: string) => io.stdout.write(`${line}\n`);

  // Bootstrap once, before any node starts, so N nodes never race to create keys or the first admin.
  const config = loadConfig({ env: io.env, overrides: { dataDir } });
  const store = await openDurableStore(dataDir, { scrypt: config.auth.scrypt, backend: storeBackendOf(config) });
  try {
    const { admin } = await bootstrapStore(store, dataDir, config.auth.initialAdmin.username, io.env.COHORT_ADMIN_PASSWORD);
    if (admin?.generatedPassword) {
      io.stderr.write(`First administrator created: ${admin.username}\nOne-time password (shown once, change it at first sign-in): ${admin.generatedPassword}\n`);
    }
  } finally {
    await store.close();
  }
  const secretFile = ensureClusterSecret(dataDir);
  say(`cluster secret: ${secretFile}`);

  const members = options.nodes + (options.console ? 1 : 0);
  const consoleIndex = options.console ? options.nodes + 1 : undefined;
  const hosts = Array.from({ length: members }, (_, i) => `127.0.0.1:${options.backChannelBasePort + i + 1}`);
  const nodes: NodeProcess[] = [];
  const children: ChildProcess[] = [];
  const stopAll = () => { for (const child of children) if (child.exitCode === null) child.kill('SIGTERM'); };
  process.once('exit', stopAll);

  try {
    for (let i = 1; i <= members; i++) {
      const role = i === consoleIndex ? 'console' : 'engine';
      const folder = join(dataDir, 'nodes', role === 'console' ? 'console' : `node-${i}`);
      mkdirSync(folder, { recursive: true });
      const log = join(folder, 'cohort.log');
      const out = createWriteStream(log, { flags: 'a' });
      const port = options.basePort + i;
      const child = spawn(process.execPath, [COHORT_BIN, 'start'], {
        env: {
          ...io.env, COHORT_DATA_DIR: dataDir, COHORT_NODE_ROLE: role, COHORT_NODE_INDEX: String(i),
          COHORT_NODE_NAME: role === 'console' ? 'console' : `node-${i}`, COHORT_HTTP_HOST: '127.0.0.1', COHORT_HTTP_PORT: String(port),
          COHORT_HTTP_ISSUER: options.issuer, COHORT_HTTP_TRUST_PROXY: options.balancer ? 'true' : 'false',
          COHORT_CLUSTER_PORT: String(options.backChannelBasePort + i), COHORT_CLUSTER_INITIAL_HOSTS: hosts.join(','),
          ...(consoleIndex !== undefined ? { COHORT_NODE_CONFIG_SOURCE: 'console' } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(out);
      child.stderr!.pipe(out);
      children.push(child);
      nodes.push({ index: i, role, url: `http://127.0.0.1:${port}`, backChannelPort: options.backChannelBasePort + i, child, log });
      say(`starting ${role === 'console' ? 'console' : 'node'} ${i}: ${nodes[i - 1]!.url} (back channel ${hosts[i - 1]}, log ${log})`);
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const node of nodes) {
      await waitReady(node.url, node.child, deadline);
      say(`${node.role === 'console' ? 'console' : 'node'} ${node.index} ready`);
    }
    const engines = nodes.filter((n) => n.role === 'engine');

    const issuerUrl = new URL(options.issuer);
    const cfg = haproxyConfig({
      bindHost: issuerUrl.hostname, port: Number(issuerUrl.port || 80),
      // The console administers the cluster and stays out of the balanced pool.
      nodes: engines.map((n) => ({ index: n.index, host: '127.0.0.1', port: options.basePort + n.index })),
    });
    let haproxy: ChildProcess | undefined;
    if (options.balancer === 'haproxy') {
      if (spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0) {
        throw new CliError('haproxy is not installed (Debian/Ubuntu: apt-get install haproxy)', 1);
      }
      const cfgFile = join(dataDir, 'haproxy.cfg');
      writeFileSync(cfgFile, cfg);
      const out = createWriteStream(join(dataDir, 'haproxy.log'), { flags: 'a' });
      haproxy = spawn('haproxy', ['-db', '-f', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      haproxy.stdout!.pipe(out);
      haproxy.stderr!.pipe(out);
      children.push(haproxy);
      say(`haproxy on ${options.issuer} (config ${cfgFile})`);
    }

    writeFileSync(join(dataDir, 'cluster.json'), `${JSON.stringify({
      issuer: options.issuer,
      nodes: engines.map((n) => ({ index: n.index, url: n.url, backChannelPort: n.backChannelPort, pid: n.child.pid, log: n.log })),
      ...(consoleIndex !== undefined ? { console: nodes.filter((n) => n.role === 'console').map((n) => ({ index: n.index, url: n.url, backChannelPort: n.backChannelPort, pid: n.child.pid, log: n.log }))[0] } : {}),
      ...(haproxy ? { balancer: { kind: 'haproxy', pid: haproxy.pid } } : {}),
    }, null, 2)}\n`);
    say(`cluster.json: ${join(dataDir, 'cluster.json')}`);
    if (!haproxy) say(`\nNo balancer started. To serve the issuer ${options.issuer}, run HAProxy with:\n\n${cfg}`);
    const consoleNode = nodes.find((n) => n.role === 'console');
    if (consoleNode) {
      say(`console: ${consoleNode.url}/console/ (sign in with an admin account). Clients and service providers added`);
      say('with the CLI or the console are staged: publish them from the console\'s Publish page to reach the engines.');
    }
    say(`\n${options.nodes} nodes up; issuer ${options.issuer}. Press Ctrl-C to stop them all.`);

    await new Promise<void>((resolveStop) => {
      const onSignal = () => resolveStop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      for (const node of nodes) {
        node.child.once('exit', (code, signal) => say(`${node.role === 'console' ? 'console' : 'node'} ${node.index} exited (${code ?? signal})`));
      }
    });
    say('stopping...');
  } finally {
    stopAll();
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null
      ? undefined : new Promise((r) => { const t = setTimeout(() => c.kill('SIGKILL'), 5_000); c.once('exit', () => { clearTimeout(t); r(undefined); }); }))));
    process.off('exit', stopAll);
  }
  return 0;
}

export function clusterDataExists(dataDir: string): boolean {
  return existsSync(join(dataDir, 'cluster.json'));
}
