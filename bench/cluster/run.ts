// Cluster benchmarks: session write-to-replica latency (in-process ClusterNodes over TLS), sign-ins per second for
// 1 node versus 3 nodes behind HAProxy (real `cohort start` processes), stateless nodes on Redis + PostgreSQL versus
// the peer cluster (engines.ts), heap per 100,000 sessions, and configuration publish latency under load (publish.ts).
// `node dist/bench/cluster/run.js --help`. Every loop is bounded in count and time, all traffic goes to 127.0.0.1,
// and every process started is stopped at the end, on failure and on SIGINT/SIGTERM (see cleanup.ts).
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { stopEverything } from './cleanup.js';
import { engineRunBudgetSeconds, enginesJson, enginesSection, runEngines, type EnginesRun } from './engines.js';
import { ensureHaproxy } from './haproxy.js';
import { runLatency, type LatencyRun } from './latency.js';
import { runMemory, type MemoryRun } from './memory.js';
import { PUBLISH_SLACK_SECONDS, publishJson, publishLoadSeconds, publishSection, runPublish, type PublishRun } from './publish.js';
import { CLUSTER_HELP, ClusterUsageError, parseClusterOptions, type ClusterBenchOptions } from './options.js';
import {
  header, latencyJson, latencySection, memoryJson, memorySection, signInJson, signInSection,
} from './report.js';
import { runSignIns, type SignInResult } from './signins.js';

/** Set in the child this script starts with --expose-gc, so it never restarts itself twice. */
const GC_CHILD_ENV = 'COHORT_BENCH_CLUSTER_GC_CHILD';
/** Beyond the measured time: node and cluster starts, fills, HAProxy; past it the run is abandoned. */
const WATCHDOG_SLACK_SECONDS = 240;

const interrupted = new AbortController();
/** True in the parent that restarted this script with --expose-gc: it only passes signals on and waits. */
let rerunning = false;

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The memory figures need global.gc: run this same script again under `node --expose-gc`, passing signals on. */
function rerunWithGc(): Promise<number> {
  rerunning = true;
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', script, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, [GC_CHILD_ENV]: '1' },
  });
  // A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))));
}

function budgetSeconds(options: ClusterBenchOptions): number {
  let seconds = WATCHDOG_SLACK_SECONDS;
  if (options.only.includes('latency')) seconds += 6 * (options.seconds + 30);
  if (options.only.includes('signins')) seconds += 3 * (options.seconds + 2);
  if (options.only.includes('engines')) seconds += engineRunBudgetSeconds(options.engineSeconds);
  if (options.only.includes('memory')) seconds += 2 * 120;
  if (options.only.includes('publish')) seconds += publishLoadSeconds(options.publishes) + PUBLISH_SLACK_SECONDS;
  return seconds;
}

async function main(): Promise<number> {
  let options: ClusterBenchOptions | undefined;
  try {
    options = parseClusterOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ClusterUsageError)) throw err;
    process.stderr.write(`bench cluster: ${err.message}\n\n${CLUSTER_HELP}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (options.only.includes('memory') && typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    if (process.env[GC_CHILD_ENV] === '1') throw new Error('started with --expose-gc but global.gc is missing');
    return rerunWithGc();
  }

  const budget = budgetSeconds(options);
  setTimeout(() => {
    progress(`bench cluster: abandoned after ${budget} s`);
    interrupted.abort(new Error('watchdog'));
    void stopEverything(progress).finally(() => process.exit(1));
  }, budget * 1000).unref();

  process.stdout.write(`${header(options)}\n\n`);
  let latency: LatencyRun | undefined;
  let memory: MemoryRun | undefined;
  const signIns: SignInResult[] = [];
  let engines: EnginesRun | undefined;
  let publish: PublishRun | undefined;
  try {
    if (options.only.includes('latency')) {
      progress('latency');
      latency = await runLatency(options, interrupted.signal, progress);
    }
    if (options.only.includes('memory')) {
      progress('memory');
      memory = await runMemory(options.sessions, interrupted.signal, progress);
    }
    if (options.only.includes('signins')) {
      progress('sign-ins');
      progress(`  ${ensureHaproxy(progress)}`);
      signIns.push(...await runSignIns(options, interrupted.signal, progress));
    }
    if (options.only.includes('engines')) {
      progress('engines');
      progress(`  ${ensureHaproxy(progress)}`);
      engines = await runEngines({ seconds: options.engineSeconds, workers: options.workers }, interrupted.signal, progress);
    }
    if (options.only.includes('publish')) {
      progress('publish');
      publish = await runPublish(options, interrupted.signal, progress);
    }
  } finally {
    if (!interrupted.signal.aborted) await stopEverything(progress);
  }

  const sections: string[] = [];
  const json: string[] = [];
  if (latency) { sections.push(latencySection(latency, options)); json.push(...latencyJson(latency)); }
  if (signIns.length) { sections.push(signInSection(signIns, options, cpus().length)); json.push(...signInJson(signIns, options)); }
  if (engines) {
    const rowOptions = { seconds: options.engineSeconds, workers: options.workers };
    sections.push(enginesSection(engines, rowOptions, cpus().length));
    json.push(...enginesJson(engines, rowOptions));
  }
  if (memory) { sections.push(memorySection(memory)); json.push(...memoryJson(memory)); }
  if (publish) { sections.push(publishSection(publish)); json.push(...publishJson(publish)); }
  process.stdout.write(`${sections.join('\n\n')}\n\n${json.join('\n')}\n`);

  const failed = (latency?.results.some((r) => r.errors + r.replicaFailures > 0) ?? false)
    || signIns.some((r) => r.load.errors > 0) || (engines?.results.some((r) => r.load.errors > 0) ?? false) || (memory?.errors ?? 0) > 0
    || (publish ? publish.load.errors > 0 || publish.publishes.some((p) => p.problem) : false);
  return failed ? 1 : 0;
}

let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (rerunning || signalled) return;
    signalled = true;
    progress(`bench cluster: ${signal}, stopping everything it started`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
    void stopEverything(progress).finally(() => process.exit(130));
  });
}
main().then(
  (code) => { process.exitCode = code; },
  (err: Error) => {
    if (interrupted.signal.aborted) return; // the signal handler or the watchdog reports and exits
    process.stderr.write(`bench cluster failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
