// Sign-ins per second, 1 node versus 3 nodes, both behind HAProxy round-robin without a sticky cookie, so every
// request of a sign-in goes to the next node: the cluster case pays the peer backend's read-through, forwarding and
// replication on nearly every step. The same three nodes are then measured with HAProxy's sticky cookie, the
// configuration `cohort cluster up` generates, for comparison. The nodes are real `cohort start` processes: the single
// one a standalone node (local state), the three engines of test/support/cluster.ts TestCluster (peer state over the
// TLS back channel, one shared data directory). The measured operation is bench/workloads.ts's sign-in (fresh cookie
// jar, login and consent forms, code redeemed at /token), driven by bench/load.ts's closed loop.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { provision } from '../cohort-target.js';
import { runLoad, type LoadResult } from '../load.js';
import { TokenEndpoint } from '../token-endpoint.js';
import { discoverEndpoints, signInWorkload, type Target } from '../workloads.js';
import { freePort, TestCluster } from '../../test/support/cluster.js';
import { startCohort, tempDir, type CohortProcess } from '../../test/support/processes.js';
import { track } from './cleanup.js';
import { ClusterCpuMeter, type ClusterCpuShares } from './cpu.js';
import { startHaproxy } from './haproxy.js';

/** scrypt N for both setups: the smallest Cohort accepts, so the comparison is not dominated by hashing. */
export const SIGNIN_SCRYPT_COST = 1024;
const WARMUP_SECONDS = 2;
/** A fresh node process keeps a core busy for about a second after start (compiler, GC): let it settle. */
const SETTLE_MS = 2_000;
const READY_TIMEOUT_MS = 30_000;

/** 1 node; 3 nodes round-robin without a sticky cookie (the measurement asked for); 3 nodes with HAProxy's cookie. */
export type Setup = 'single' | 'cluster' | 'cluster-sticky';

export interface HeldPerNode {
  node: number;
  sessions: { owner: number; replica: number };
  tokens: { owner: number; replica: number };
}

export interface SignInResult {
  setup: Setup;
  nodes: number;
  passwordCheck: string;
  load: LoadResult;
  cpu: ClusterCpuShares | undefined;
  /** HTTP requests each node served during the measured window (HAProxy health checks included, ~1/s). */
  requestsPerNode: number[];
  /** Peer state each node held after the row, from /status/v2 (cluster rows only). */
  held?: HeldPerNode[];
}

/** The nodes of one setup, up and ready, without a balancer; the issuer is the balancer's future address. */
interface RunningNodes {
  target: Target;
  passwordCheck: string;
  issuerPort: number;
  nodeUrls: string[];
  nodePids: Array<number | undefined>;
  stop(): Promise<void>;
}

const NODE_ENV = {
  COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST),
  // Behind a balancer: X-Forwarded-For is the client address (lockout per source), as `cohort cluster up` sets it.
  COHORT_HTTP_TRUST_PROXY: 'true',
  // The operator's default: one log line per sign-in, as in the single-node benchmark.
  COHORT_LOG_LEVEL: 'info',
};


/**
 * Waits until every node of a 3-node cluster answers lbstatus OK, sees three members alive and has its state caught
 * up: lbstatus can say OK while a node's catch-up is still being retried (it then does not act as owner yet), and
 * the measurement must start with the cluster settled.
 */
export async function waitSettled(cluster: TestCluster): Promise<void> {
  for (const i of [1, 2, 3]) {
    await waitUntil(`node ${i} to report lbstatus OK, three members alive and its state caught up`, async () => {
      if ((await cluster.lbStatus(i)) !== 200) return false;
      const status = await cluster.status(i) as Awaited<ReturnType<TestCluster['status']>> & { components?: { state?: { status?: string } } };
      return status.ClusterStatus.members.filter((m) => m.state === 'alive').length === 3 && status.components?.state?.status === 'OK';
    });
  }
}

export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(200);
  }
}

export async function lbOk(url: string): Promise<boolean> {
  const res = await fetch(`${url}/status/v2/lbstatus`, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

async function startSingle(): Promise<RunningNodes> {
  const dir = tempDir('cohort-bench-1node-');
  const untrackDir = track(`data directory ${dir.path}`, () => dir.remove(), async () => dir.remove());
  let node: CohortProcess | undefined;
  let untrackNode = () => {};
  try {
    const env = { COHORT_DATA_DIR: dir.path, COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST) };
    const { target, passwordCheck } = await provision(env);
    const issuerPort = await freePort();
    const issuer = `http://127.0.0.1:${issuerPort}`;
    node = await startCohort({
      dataDir: dir.path, timeoutMs: READY_TIMEOUT_MS,
      env: { ...env, ...NODE_ENV, COHORT_HTTP_ISSUER: issuer, COHORT_ADMIN_PASSWORD: randomBytes(18).toString('base64url') },
    });
    const started = node;
    untrackNode = track(`cohort node ${started.child.pid}`, () => started.child.kill('SIGKILL'), () => started.stop());
    await waitUntil('the node to report lbstatus OK', () => lbOk(started.url));
    return {
      target: { ...target, issuer }, passwordCheck, issuerPort, nodeUrls: [started.url], nodePids: [started.child.pid],
      async stop() {
        await started.stop();
        untrackNode();
        dir.remove();
        untrackDir();
      },
    };
  } catch (error) {
    await node?.stop();
    untrackNode();
    dir.remove();
    untrackDir();
    throw error;
  }
}

async function startThree(): Promise<RunningNodes> {
  const cluster = await TestCluster.create({ size: 3, env: NODE_ENV });
  const untrackCluster = track(`3-node cluster in ${cluster.dataDir}`, () => {
    for (const node of cluster.nodes.values()) node.child.kill('SIGKILL');
  }, () => cluster.stop());
  try {
    const { target, passwordCheck } = await provision(cluster.env({ COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST) }));
    await cluster.startAll();
    await waitSettled(cluster);
    return {
      target: { ...target, issuer: cluster.issuer }, passwordCheck, issuerPort: Number(new URL(cluster.issuer).port),
      nodeUrls: [1, 2, 3].map((i) => cluster.url(i)), nodePids: [1, 2, 3].map((i) => cluster.nodes.get(i)?.child.pid),
      async stop() {
        await cluster.stop();
        untrackCluster();
      },
    };
  } catch (error) {
    await cluster.stop();
    untrackCluster();
    throw error;
  }
}

/** Requests each node has served so far, from its Prometheus histogram's _count series. */
async function requestsServed(nodeUrls: string[]): Promise<number[]> {
  return Promise.all(nodeUrls.map(async (url) => {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('cohort_http_request_duration_seconds_count')) total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
    return total;
  }));
}

/** Sessions and tokens each node holds, as acting owner and as copy (GET /status/v2, "State"). */
async function heldPerNode(nodeUrls: string[]): Promise<HeldPerNode[]> {
  return Promise.all(nodeUrls.map(async (url, i) => {
    const res = await fetch(`${url}/status/v2`, { signal: AbortSignal.timeout(5_000) });
    const body = await res.json() as { State?: Record<string, { owner?: number; replica?: number }> };
    const pick = (name: string) => ({ owner: body.State?.[name]?.owner ?? Number.NaN, replica: body.State?.[name]?.replica ?? Number.NaN });
    return { node: i + 1, sessions: pick('sessions'), tokens: pick('tokens') };
  }));
}

async function measure(setup: Setup, running: RunningNodes, options: { seconds: number; workers: number },
  signal: AbortSignal, progress: (line: string) => void): Promise<SignInResult> {
  const sticky = setup === 'cluster-sticky';
  const balancer = await startHaproxy(running.issuerPort, running.nodeUrls.map((url, i) => ({
    index: i + 1, host: '127.0.0.1', port: Number(new URL(url).port),
  })), sticky);
  let tokens: TokenEndpoint | undefined;
  try {
    const endpoints = await discoverEndpoints(running.target.issuer);
    for (const url of [endpoints.authorization, endpoints.token]) {
      if (!url.startsWith(`${balancer.url}/`)) throw new Error(`discovery points past the balancer: ${url}`);
    }
    tokens = new TokenEndpoint(endpoints.token, running.target.clientId, running.target.clientSecret, options.workers);
    const workload = signInWorkload(running.target, endpoints, tokens);
    progress(`  ${running.nodeUrls.length} node(s), HAProxy round-robin ${sticky ? 'with' : 'without'} sticky cookie: `
      + `warm-up ${WARMUP_SECONDS} s, then ${options.seconds} s with ${options.workers} browsers ...`);
    await runLoad(workload, { workers: options.workers, seconds: WARMUP_SECONDS, warmupSeconds: 0 }, undefined, signal);
    const before = await requestsServed(running.nodeUrls);
    const meter = new ClusterCpuMeter(running.nodePids, balancer.pid);
    const load = await runLoad(workload, { workers: options.workers, seconds: options.seconds, warmupSeconds: 0 }, meter, signal);
    const after = await requestsServed(running.nodeUrls);
    progress(`    ${load.perSecond.toFixed(1)} sign-ins/s, ${load.errors} errors`);
    return {
      setup, nodes: running.nodeUrls.length, passwordCheck: running.passwordCheck, load, cpu: meter.last,
      requestsPerNode: after.map((n, i) => n - before[i]!),
      ...(running.nodeUrls.length > 1 ? { held: await heldPerNode(running.nodeUrls) } : {}),
    };
  } finally {
    tokens?.close();
    await balancer.stop();
  }
}

/** 1 node, then 3 nodes without and with a sticky cookie; each setup's nodes are stopped before the next starts. */
export async function runSignIns(options: { seconds: number; workers: number }, signal: AbortSignal,
  progress: (line: string) => void): Promise<SignInResult[]> {
  const results: SignInResult[] = [];
  for (const [start, setups] of [[startSingle, ['single']], [startThree, ['cluster', 'cluster-sticky']]] as const) {
    signal.throwIfAborted();
    progress(start === startSingle ? '  starting 1 standalone node' : '  starting 3 engine nodes (peer state)');
    const running = await start();
    try {
      await delay(SETTLE_MS, undefined, { signal });
      for (const setup of setups) results.push(await measure(setup, running, options, signal, progress));
    } finally {
      await running.stop();
    }
  }
  return results;
}
