// Configuration publish: a console and three engines (test/support/cluster.ts TestCluster with `console: true`; the
// engines run what the console publishes, node.configSource = console). N times, one client's redirect URI is changed
// through the console's admin API and published; POST /admin/api/config/publish answers once every engine built the
// new version, switched to it and acknowledged it (or did not answer in time), so its round trip is the time from
// publish until all engines acknowledged. Meanwhile a steady client_credentials load (bench/load.ts's closed loop,
// each worker bound to one engine, directly, no balancer) runs against the engines' token endpoints: every grant is
// classed as "during a switch" when its request overlapped a publish call or started within AFTER_SWITCH_MS of its
// answer, else "outside", and failures (any non-2xx,
// timeout, reset) are counted per class: the claim under test is that none fails during a switch.
import { setTimeout as delay } from 'node:timers/promises';
import { runLoad, type LoadResult, type WorkerState, type Workload } from '../load.js';
import { TokenEndpoint } from '../token-endpoint.js';
import { discoverEndpoints } from '../workloads.js';
import { CONSOLE_INDEX, TestCluster } from '../../test/support/cluster.js';
import { track } from './cleanup.js';
import { ClusterCpuMeter, type ClusterCpuShares } from './cpu.js';
import { formatTable } from './report.js';
import { SIGNIN_SCRYPT_COST } from './signins.js';
import { summarize, type LatencySummary } from './stats.js';

/** Concurrent client_credentials workers: a steady load that leaves the 2-core machine room for the publishes. */
const LOAD_WORKERS = 4;
/** Load alone before the first publish and after the last one. */
const LEAD_MS = 3_000;
/** Publishes start at this spacing (the next one at once when the previous took longer). */
const INTERVAL_MS = 1_500;
const SETTLE_MS = 2_000;
const ENGINES = [1, 2, 3];
/** A grant that started up to this long after a publish's answer still counts as "during": the first requests on the new version. */
const AFTER_SWITCH_MS = 250;
const redirectUri = (n: number) => `http://127.0.0.1:5555/callback-${n}`;

/** Seconds past the measured ones a run needs at most (cluster start, readiness, client set-up). */
export const PUBLISH_SLACK_SECONDS = 90;

/** Wall-clock seconds the load runs for N publishes. */
export function publishLoadSeconds(publishes: number): number {
  return (2 * LEAD_MS + publishes * INTERVAL_MS) / 1000;
}

interface Timed { start: number; end: number; ok: boolean }

export interface PublishSample {
  version: number;
  ms: number;
  /** Engines that acknowledged this version in the answer. */
  acknowledged: number;
  problem?: string;
}

export interface LoadClass extends LatencySummary {
  failed: number;
}

export interface PublishRun {
  publishes: PublishSample[];
  publishLatency: LatencySummary;
  during: LoadClass;
  outside: LoadClass;
  load: LoadResult;
  cpu: ClusterCpuShares | undefined;
  /** Publishes that ended after the load stopped (their switch was not under load). */
  beyondLoad: number;
}

function classify(samples: Timed[], windows: Array<[number, number]>, elapsedMs: number): { during: LoadClass; outside: LoadClass } {
  const during: Timed[] = [];
  const outside: Timed[] = [];
  for (const s of samples) (windows.some(([from, to]) => s.start < to + AFTER_SWITCH_MS && s.end > from) ? during : outside).push(s);
  const inWindows = windows.reduce((sum, [from, to]) => sum + (to - from) + AFTER_SWITCH_MS, 0);
  const summary = (list: Timed[], ms: number): LoadClass => ({
    ...summarize(list.filter((s) => s.ok).map((s) => s.end - s.start), ms), failed: list.filter((s) => !s.ok).length,
  });
  return { during: summary(during, inWindows), outside: summary(outside, Math.max(0, elapsedMs - inWindows)) };
}

/** The cluster, the bench client created and published through the console, and one token endpoint per engine. */
async function startConsoleCluster(progress: (line: string) => void): Promise<{ cluster: TestCluster; clientId: string; tokens: TokenEndpoint[] }> {
  progress('  starting a console and 3 engines (configuration from the console)');
  const cluster = await TestCluster.create({
    size: 3, console: true, env: { COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST), COHORT_LOG_LEVEL: 'info' },
  });
  const tokens: TokenEndpoint[] = [];
  track(`console + 3 engines in ${cluster.dataDir}`, () => {
    for (const node of cluster.nodes.values()) node.child.kill('SIGKILL');
  }, async () => { tokens.forEach((t) => t.close()); await cluster.stop(); });
  await cluster.startAll();
  await cluster.waitReady();
  const created = await cluster.api('POST', '/admin/api/clients', { name: 'Bench publish', redirectUris: [redirectUri(0)] });
  if (created.status !== 201) throw new Error(`creating the client: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  const { clientId } = created.body.client as { clientId: string };
  const first = await cluster.api('POST', '/admin/api/config/publish');
  if (first.status !== 200) throw new Error(`first publish: HTTP ${first.status} ${JSON.stringify(first.body)}`);
  const { token } = await discoverEndpoints(cluster.url(1));
  for (const i of ENGINES) {
    // Straight to each engine (the issuer's port is where a balancer would stand; nothing listens there).
    tokens.push(new TokenEndpoint(`${cluster.url(i)}${new URL(token).pathname}`, clientId, created.body.secret as string, LOAD_WORKERS));
  }
  for (const t of tokens) await t.grant({ grant_type: 'client_credentials' });
  return { cluster, clientId, tokens };
}

async function publishOnce(cluster: TestCluster, clientId: string, n: number): Promise<{ sample: PublishSample; window: [number, number] }> {
  const staged = await cluster.api('PUT', `/admin/api/clients/${clientId}`, { redirectUris: [redirectUri(n)] });
  if (staged.status !== 200) throw new Error(`staging change ${n}: HTTP ${staged.status} ${JSON.stringify(staged.body)}`);
  const from = performance.now();
  const answer = await cluster.api('POST', '/admin/api/config/publish');
  const to = performance.now();
  const body = answer.body as { version?: number; changed?: boolean; nodes?: Array<{ index: number; ok: boolean; version?: number; error?: string }> };
  const version = body.version ?? Number.NaN;
  const acknowledged = (body.nodes ?? []).filter((node) => node.ok && node.version === version && ENGINES.includes(node.index)).length;
  const problem = answer.status !== 200 ? `HTTP ${answer.status}`
    : !body.changed ? 'nothing changed'
      : acknowledged < ENGINES.length ? `only ${acknowledged} engines acknowledged: ${JSON.stringify(body.nodes)}` : undefined;
  return { sample: { version, ms: to - from, acknowledged, ...(problem ? { problem } : {}) }, window: [from, to] };
}

export async function runPublish(options: { publishes: number }, signal: AbortSignal, progress: (line: string) => void): Promise<PublishRun> {
  const { cluster, clientId, tokens } = await startConsoleCluster(progress);
  await delay(SETTLE_MS, undefined, { signal });
  const samples: Timed[] = [];
  let nextWorker = 0;
  const workload: Workload = {
    prepare: async (state: WorkerState) => { state.engine ??= nextWorker++ % tokens.length; },
    run: async (state: WorkerState) => {
      const start = performance.now();
      try {
        await tokens[state.engine as number]!.grant({ grant_type: 'client_credentials' });
        samples.push({ start, end: performance.now(), ok: true });
      } catch (err) {
        samples.push({ start, end: performance.now(), ok: false });
        throw err;
      }
    },
  };
  const seconds = publishLoadSeconds(options.publishes);
  progress(`  ${options.publishes} publishes, ${INTERVAL_MS} ms apart, under ${LOAD_WORKERS} client_credentials workers for ${seconds} s ...`);
  const meter = new ClusterCpuMeter(ENGINES.map((i) => cluster.nodes.get(i)?.child.pid), cluster.nodes.get(CONSOLE_INDEX)?.child.pid);
  const loadStarted = performance.now();
  const loading = runLoad(workload, { workers: LOAD_WORKERS, seconds, warmupSeconds: 0 }, meter, signal);
  const publishes: PublishSample[] = [];
  const windows: Array<[number, number]> = [];
  try {
    for (let n = 1; n <= options.publishes; n++) {
      const due = loadStarted + LEAD_MS + (n - 1) * INTERVAL_MS - performance.now();
      if (due > 0) await delay(due, undefined, { signal });
      const { sample, window } = await publishOnce(cluster, clientId, n);
      publishes.push(sample);
      windows.push(window);
    }
  } finally {
    await loading.catch(() => undefined);
  }
  const load = await loading;
  const loadEnded = loadStarted + load.elapsedSeconds * 1000;
  progress(`    publish p50 ${summarize(publishes.map((p) => p.ms), 1).p50Ms.toFixed(0)} ms; load ${load.perSecond.toFixed(0)}/s, ${load.errors} failed`);
  return {
    publishes, publishLatency: summarize(publishes.map((p) => p.ms), 0), ...classify(samples, windows, load.elapsedSeconds * 1000),
    load, cpu: meter.last, beyondLoad: windows.filter(([, to]) => to > loadEnded).length,
  };
}

// --- output ---

const fixed = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const round = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

export function publishSection(run: PublishRun): string {
  const p = run.publishLatency;
  const failedPublishes = run.publishes.filter((s) => s.problem);
  const loadRow = (name: string, c: LoadClass) => [name, String(c.ok), String(c.failed), fixed(c.p50Ms, 1), fixed(c.p99Ms, 1), fixed(c.maxMs, 1)];
  const cpu = run.cpu;
  const lines = [
    `Configuration publish: a console and 3 engines; ${run.publishes.length} publishes of one client's changed redirect URI, `
      + `${INTERVAL_MS} ms apart, each timed from POST /admin/api/config/publish until its answer (every engine built, switched to and acknowledged the version)`,
    formatTable(['publishes', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'all 3 acknowledged', 'failed'], [[
      String(run.publishes.length), fixed(p.p50Ms, 1), fixed(p.p99Ms, 1), fixed(p.maxMs, 1), fixed(p.meanMs, 1),
      String(run.publishes.filter((s) => s.acknowledged === ENGINES.length).length), String(failedPublishes.length),
    ]], new Set([0, 1, 2, 3, 4, 5, 6])),
    '',
    `Steady client_credentials load meanwhile: ${LOAD_WORKERS} closed-loop workers, each bound to one engine (no balancer), `
      + `${fixed(run.load.elapsedSeconds, 1)} s, ${fixed(run.load.perSecond, 0)} grants/s overall; "during" = the grant's request overlapped a publish call or started within ${AFTER_SWITCH_MS} ms of its answer`,
    formatTable(['grants', 'ok', 'failed', 'p50 ms', 'p99 ms', 'max ms'],
      [loadRow('during a publish', run.during), loadRow('outside', run.outside)], new Set([1, 2, 3, 4, 5])),
    `CPU during the load: engines ${fixed(cpu?.nodeSeconds, 1)} s, console ${fixed(cpu?.balancerSeconds, 1)} s, load generator `
      + `${fixed(cpu?.generatorSeconds, 1)} s, other processes ${fixed(cpu?.otherSeconds, 1)} s of ${fixed(cpu?.capacitySeconds, 0)} CPU-seconds`,
  ];
  if (run.during.failed + run.outside.failed > 0) lines.push(`FAILED grants: ${run.load.errorSamples.join(' | ')}`);
  if (failedPublishes.length > 0) lines.push(`failed publishes: ${failedPublishes.map((s) => s.problem).join(' | ')}`);
  if (run.beyondLoad > 0) lines.push(`note: ${run.beyondLoad} publish(es) ended after the load had stopped`);
  return lines.join('\n');
}

export function publishJson(run: PublishRun): string[] {
  const load = (c: LoadClass) => ({ ok: c.ok, failed: c.failed, p50Ms: round(c.p50Ms, 2), p99Ms: round(c.p99Ms, 2), maxMs: round(c.maxMs, 2) });
  return [JSON.stringify({
    bench: 'cluster-publish', engines: ENGINES.length, publishes: run.publishes.length,
    p50Ms: round(run.publishLatency.p50Ms, 2), p99Ms: round(run.publishLatency.p99Ms, 2), maxMs: round(run.publishLatency.maxMs, 2),
    allAcknowledged: run.publishes.filter((s) => s.acknowledged === ENGINES.length).length,
    failedPublishes: run.publishes.filter((s) => s.problem).length, loadWorkers: LOAD_WORKERS,
    loadSeconds: round(run.load.elapsedSeconds, 3), loadPerSecond: round(run.load.perSecond, 1),
    duringPublish: load(run.during), outsidePublish: load(run.outside), beyondLoad: run.beyondLoad,
    enginesCpuSeconds: round(run.cpu?.nodeSeconds, 2), consoleCpuSeconds: round(run.cpu?.balancerSeconds, 2),
    ...(run.load.errorSamples.length ? { errorSamples: run.load.errorSamples } : {}),
    ...(run.publishes.some((s) => s.problem) ? { publishProblems: run.publishes.flatMap((s) => (s.problem ? [s.problem] : [])) } : {}),
  })];
}
