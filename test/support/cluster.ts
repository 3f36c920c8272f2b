// A real multi-node Cohort cluster for tests: N `cohort start` processes (role engine) on loopback sharing one data
// directory (users, clients, keys, cluster secret), each with its own back-channel port. The issuer is a URL on a
// reserved port where a load balancer would stand; tests choose the node of every request themselves, which is what
// a balancer does (cookies are per host, so all nodes on 127.0.0.1 share them like one balanced host name).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type * as oidc from 'openid-client';
import { rpVia } from './rp.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './processes.js';
import { waitFor } from './wait.js';

import { freePort } from './ports.js';

export { freePort };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port P such that P..P+count-1 are all free (for commands that take a base port). */
export async function freePortRange(count: number, attempts = 50): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const checks = await Promise.all(Array.from({ length: count }, (_, k) => portIsFree(base + k)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Index of the console member when a cluster has one (engines are 1..size). */
export const CONSOLE_INDEX = 100;
/** The console's admin API token in tests. */
export const ADMIN_TOKEN = 'test-admin-api-token-0123456789abcdef';

export interface ClusterOptions {
  /** Engines, indexes 1..size. */
  size: number;
  /**
   * Also run a console member (index CONSOLE_INDEX, admin API token ADMIN_TOKEN); the engines then run the
   * configuration it publishes (node.configSource = console).
   */
  console?: boolean;
  /** Extra environment per node index (1-based), e.g. preferredNodes for subclusters. */
  envFor?: (index: number) => NodeJS.ProcessEnv;
  env?: NodeJS.ProcessEnv;
  /**
   * Each engine gets its own data directory (dataDirOf(index), holding a copy of the cluster secret) instead of
   * sharing the console's: a cluster without a shared database, whose users are copied from the console.
   */
  separateDataDirs?: boolean;
}

export class TestCluster {
  readonly nodes = new Map<number, CohortProcess>();
  private constructor(
    readonly issuer: string,
    readonly dataDir: string,
    readonly backChannelPorts: number[],
    private readonly options: ClusterOptions,
    private readonly removeDir: () => void,
  ) {}

  static async create(options: ClusterOptions): Promise<TestCluster> {
    const dir = tempDir('cohort-cluster-');
    const init = await runCli(['cluster', 'init', '--data-dir', dir.path]);
    if (init.code !== 0) throw new Error(`cluster init failed: ${init.stderr}`);
    // The console's back-channel port, when there is one, comes last.
    const ports = await Promise.all(Array.from({ length: options.size + (options.console ? 1 : 0) }, () => freePort()));
    const issuer = `http://127.0.0.1:${await freePort()}`;
    return new TestCluster(issuer, dir.path, ports, options, dir.remove);
  }

  /** Environment for nodes started from now on (a restart with another configuration). */
  setEnv(env: NodeJS.ProcessEnv): void {
    this.options.env = { ...this.options.env, ...env };
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { COHORT_DATA_DIR: this.dataDir, ...extra };
  }

  /** The data directory node `index` runs on (the shared one unless separateDataDirs). */
  dataDirOf(index: number): string {
    if (!this.options.separateDataDirs || index === CONSOLE_INDEX) return this.dataDir;
    const dir = join(this.dataDir, `node-${index}`);
    if (!existsSync(dir)) {
      mkdirSync(dir, { mode: 0o700 });
      copyFileSync(join(this.dataDir, 'cluster-secret'), join(dir, 'cluster-secret'));
    }
    return dir;
  }

  /** Members the cluster is configured with: the engines, plus the console if any. */
  get memberCount(): number {
    return this.options.size + (this.options.console ? 1 : 0);
  }

  /** Starts node `index` (1-based, or CONSOLE_INDEX) and waits until it logs that it is serving. */
  async start(index: number): Promise<CohortProcess> {
    const isConsole = index === CONSOLE_INDEX;
    if (isConsole && !this.options.console) throw new Error('this cluster has no console');
    const node = await startCohort({
      dataDir: this.dataDirOf(index),
      timeoutMs: 30_000,
      env: {
        COHORT_ADMIN_PASSWORD: 'admin-password-for-tests',
        COHORT_NODE_ROLE: isConsole ? 'console' : 'engine', COHORT_NODE_INDEX: String(index),
        COHORT_NODE_NAME: isConsole ? 'console' : `node-${index}`,
        ...(this.options.console ? { COHORT_NODE_CONFIG_SOURCE: 'console', COHORT_ADMIN_API_TOKEN: ADMIN_TOKEN } : {}),
        COHORT_HTTP_ISSUER: this.issuer,
        COHORT_CLUSTER_PORT: String(this.backChannelPorts[isConsole ? this.options.size : index - 1]),
        COHORT_CLUSTER_INITIAL_HOSTS: this.backChannelPorts.map((p) => `127.0.0.1:${p}`).join(','),
        ...this.options.env, ...this.options.envFor?.(index),
      },
    });
    this.nodes.set(index, node);
    return node;
  }

  /** Starts every engine, and the console first when there is one. */
  async startAll(): Promise<void> {
    if (this.options.console) await this.start(CONSOLE_INDEX);
    await Promise.all(Array.from({ length: this.options.size }, (_, i) => this.start(i + 1)));
  }

  /** A call to the console's admin API with the admin token (or `auth`: an Authorization header, '' for none). */
  async api(method: string, path: string, body?: unknown, auth = `Bearer ${ADMIN_TOKEN}`): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url(CONSOLE_INDEX)}${path}`, {
      method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON: kept as text */ }
    return { status: res.status, body: parsed };
  }

  url(index: number): string {
    const node = this.nodes.get(index);
    if (!node) throw new Error(`node ${index} is not running`);
    return node.url;
  }

  /** A crash: SIGKILL, no goodbye to the cluster. */
  async kill(index: number): Promise<void> {
    await this.nodes.get(index)?.stop('SIGKILL');
    this.nodes.delete(index);
  }

  /** Kills every node but keeps the data directory (for a restart with another configuration). */
  async killAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop('SIGKILL')));
    this.nodes.clear();
  }

  async stop(): Promise<void> {
    await this.killAll();
    this.removeDir();
  }

  async waitReady(indexes: number[] = [...this.nodes.keys()]): Promise<void> {
    for (const i of indexes) {
      await waitFor(`node ${i} ready with every member`, async () => (await this.lbStatus(i)) === 200
        && (await this.status(i)).ClusterStatus.members.filter((m) => m.state === 'alive').length === this.memberCount, 20_000);
    }
  }

  async status(index: number): Promise<{ ClusterStatus: { state: string; readOnly: boolean; members: Array<{ index: number; state: string }> } } & Record<string, unknown>> {
    return await (await fetch(`${this.url(index)}/status/v2`)).json() as never;
  }

  async lbStatus(index: number): Promise<number> {
    return (await fetch(`${this.url(index)}/status/v2/lbstatus`)).status;
  }

  /**
   * An openid-client configuration whose endpoints are on node `index` (as if the balancer sent the RP there), with
   * the cluster's issuer, so tokens and ID tokens validate exactly as behind a real balancer.
   */
  async rp(index: number, clientId: string, clientSecret?: string): Promise<oidc.Configuration> {
    return rpVia(this.url(index), this.issuer, clientId, clientSecret);
  }

}
