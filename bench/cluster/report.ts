// Output of the cluster benchmarks: a header (bench/machine.ts's facts), one table per scenario for people, then one
// JSON line per result for machines, starting with {"bench": like bench/report.ts's lines, so
// `grep '^{"bench"'` collects both benchmarks' results.
import { machineFacts } from '../machine.js';
import { DISTURBED_OTHER_PERCENT } from '../report.js';
import { LATENCY_LABEL, type LatencyRun } from './latency.js';
import { MEMORY_LABEL, type MemoryRun } from './memory.js';
import type { ClusterBenchOptions } from './options.js';
import type { SignInResult } from './signins.js';

const fixed = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const round = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

/** Columns left-aligned, except those in `numeric`, which are right-aligned. */
export function formatTable(head: string[], rows: string[][], numeric: ReadonlySet<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const range = (from: number, to: number) => new Set(Array.from({ length: to - from + 1 }, (_, i) => from + i));

export function header(options: ClusterBenchOptions): string {
  const m = machineFacts();
  return [
    `Cohort cluster benchmarks, ${new Date().toISOString()}`,
    `machine: ${m.cpuModel} x ${m.cpuCount} CPUs, ${m.totalMemoryGiB} GiB RAM, ${m.platform}, Node ${m.node}, load average ${m.loadAverage1m}`,
    `scenarios: ${options.only.join(', ')}; everything on 127.0.0.1; load generator, HAProxy and every node share these ${m.cpuCount} CPUs`,
  ].join('\n');
}

// --- latency ---

export function latencySection(run: LatencyRun, options: ClusterBenchOptions): string {
  const rows = run.results.map((r) => [
    LATENCY_LABEL[r.backend], String(r.concurrency), String(r.ok), fixed(r.p50Ms, 3), fixed(r.p99Ms, 3), fixed(r.maxMs, 3),
    fixed(r.perSecond, 0), String(r.errors + r.replicaFailures), String(r.recordBytes),
  ]);
  const { held } = run;
  return [
    `Session write-to-replica latency: sessions.put() of new ~${run.results[0]?.recordBytes ?? '?'}-byte sessions, up to ${options.writes} `
      + `timed writes (after an uncounted warm-up) or ${options.seconds} s per row`,
    formatTable(['store', 'concurrency', 'writes', 'p50 ms', 'p99 ms', 'max ms', 'writes/s', 'errors', 'JSON B'], rows, range(1, 8)),
    `peer: three ClusterNodes over TLS-PSK on 127.0.0.1 in this one process (one event loop: the replica's and the owner's work `
      + 'share a thread; loopback has no network latency), failoverPeers 1. A put on the owner resolves once the replica acknowledged '
      + 'the copy, so it is the write-to-replica time; a put on a node holding no copy is forwarded to the owner first.',
    `check: node ${0} owns ${held.owner}, node ${run.replicaIndex} holds ${held.replica} copies, the third node ${held.bystander}, `
      + `of ${held.putOnPeer} sessions put on the peer backend (errors count failed puts and replica writes the owner logged as failed)`,
    `other processes used ${fixed(run.otherCpuPercent, 0)} % of the CPUs while these rows ran`
      + (run.otherCpuPercent > DISTURBED_OTHER_PERCENT ? ': the p99 and max figures are disturbed, rerun on a quiet machine' : ''),
  ].join('\n');
}

export function latencyJson(run: LatencyRun): string[] {
  return run.results.map((r) => JSON.stringify({
    bench: 'cluster-latency', store: r.backend, concurrency: r.concurrency, writes: r.ok, errors: r.errors,
    replicaFailures: r.replicaFailures, p50Ms: round(r.p50Ms, 4), p99Ms: round(r.p99Ms, 4), maxMs: round(r.maxMs, 4),
    meanMs: round(r.meanMs, 4), perSecond: round(r.perSecond, 1), seconds: round(r.elapsedSeconds, 3), recordJsonBytes: r.recordBytes,
    ...(r.backend === 'local' ? {} : { held: run.held }), otherCpuPercent: round(run.otherCpuPercent, 1),
    ...(r.errorSamples.length ? { errorSamples: r.errorSamples } : {}),
  }));
}

// --- sign-ins ---

const perOp = (seconds: number | undefined, ops: number) => (seconds === undefined || ops === 0 ? undefined : (seconds * 1000) / ops);
const otherPercent = (r: SignInResult) => (r.cpu?.otherSeconds === undefined ? undefined : (r.cpu.otherSeconds / r.cpu.capacitySeconds) * 100);
const attempts = (r: SignInResult) => r.load.ok + r.load.errors;

const SETUP_LABEL: Record<SignInResult['setup'], string> = {
  single: '1 node (standalone, local state)',
  cluster: '3 nodes (peer state), no sticky cookie',
  'cluster-sticky': '3 nodes (peer state), sticky cookie',
};

export function signInSection(results: SignInResult[], options: ClusterBenchOptions, cpuCount: number): string {
  const single = results.find((r) => r.setup === 'single');
  const rows = results.map((r) => [
    SETUP_LABEL[r.setup], fixed(r.load.perSecond, 1), fixed(r.load.p50Ms, 1), fixed(r.load.p99Ms, 1), String(r.load.ok),
    String(r.load.errors), single && single.load.perSecond > 0 ? fixed(r.load.perSecond / single.load.perSecond, 2) : '-',
    fixed(perOp(r.cpu?.nodeSeconds, r.load.ok), 1), fixed(perOp(r.cpu?.nodeSeconds, attempts(r)), 1),
    fixed(perOp(r.cpu?.balancerSeconds, attempts(r)), 2), fixed(perOp(r.cpu?.generatorSeconds, attempts(r)), 1),
    fixed(otherPercent(r), 0), r.requestsPerNode.join('/'),
  ]);
  const requests = results.reduce((sum, r) => sum + r.requestsPerNode.reduce((a, b) => a + b, 0), 0);
  const attempted = results.reduce((sum, r) => sum + attempts(r), 0);
  const lines = [
    `Sign-ins per second behind HAProxy round-robin: full authorization code + PKCE sign-in through the pages (fresh browser, `
      + `login and consent forms, code redeemed at /token; ${fixed(requests / attempted, 1)} HTTP requests per sign-in measured at the nodes), `
      + `${options.workers} concurrent browsers, ${options.seconds} s measured after a 2 s warm-up, one setup at a time`,
    formatTable(['setup', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'errors', 'vs 1 node', 'nodes CPU ms/ok', 'nodes CPU ms/try',
      'haproxy ms/try', 'generator ms/try', 'other CPU %', 'requests per node'], rows, range(1, 11)),
    `limits: ${cpuCount} CPUs shared by the load generator (this process), HAProxy and all nodes, so 3 nodes cannot be faster `
      + 'than 1 here: the 3-node rows measure cluster overhead (state read through, forwarded to and replicated between nodes, '
      + 'three processes\' fixed costs), not scale-out. "nodes CPU" (all node processes together) is the figure least affected '
      + 'by the sharing; "/try" divides by every attempted sign-in, failed ones included (they fail at the last step, /token).',
    `password hash: ${[...new Set(results.map((r) => r.passwordCheck))].join(', ')} on every row (COHORT_AUTH_SCRYPT_COST=1024, `
      + 'read back with cohort config show), so the figure shows cluster overhead rather than hashing; the default N=32768 '
      + 'costs ~60 ms of one core per sign-in (see the single-node benchmark).',
  ];
  for (const r of results.filter((x) => x.held)) {
    lines.push(`state held after "${SETUP_LABEL[r.setup]}" (owner+replica per node, cumulative): `
      + r.held!.map((h) => `node ${h.node} sessions ${h.sessions.owner}+${h.sessions.replica} tokens ${h.tokens.owner}+${h.tokens.replica}`).join('; '));
  }
  const disturbed = results.filter((r) => (otherPercent(r) ?? 0) > DISTURBED_OTHER_PERCENT);
  if (disturbed.length > 0) {
    lines.push(`warning: other processes used over ${DISTURBED_OTHER_PERCENT} % of the CPUs during ${disturbed.length} row(s): rerun on a quiet machine`);
  }
  for (const r of results.filter((x) => x.load.errorSamples.length > 0)) {
    lines.push(`errors (${SETUP_LABEL[r.setup]}): ${r.load.errors} of ${attempts(r)} sign-ins failed: ${r.load.errorSamples.join(' | ')}`);
  }
  return lines.join('\n');
}

export function signInJson(results: SignInResult[], options: ClusterBenchOptions): string[] {
  const single = results.find((r) => r.setup === 'single');
  return results.map((r) => JSON.stringify({
    bench: 'cluster-signin', setup: r.setup, nodes: r.nodes,
    balancer: `haproxy roundrobin, ${r.setup === 'cluster-sticky' ? 'sticky cookie' : 'no sticky cookie'}`, passwordCheck: r.passwordCheck,
    workers: options.workers, seconds: round(r.load.elapsedSeconds, 3), ok: r.load.ok, errors: r.load.errors,
    perSecond: round(r.load.perSecond, 2), p50Ms: round(r.load.p50Ms, 2), p99Ms: round(r.load.p99Ms, 2),
    ratioToOneNode: single && single.load.perSecond > 0 ? round(r.load.perSecond / single.load.perSecond, 3) : null,
    nodesCpuMsPerOk: round(perOp(r.cpu?.nodeSeconds, r.load.ok), 3),
    nodesCpuMsPerAttempt: round(perOp(r.cpu?.nodeSeconds, attempts(r)), 3),
    haproxyCpuMsPerAttempt: round(perOp(r.cpu?.balancerSeconds, attempts(r)), 3),
    generatorCpuMsPerAttempt: round(perOp(r.cpu?.generatorSeconds, attempts(r)), 3),
    otherCpuPercent: round(otherPercent(r), 1), requestsPerNode: r.requestsPerNode,
    ...(r.held ? { held: r.held } : {}),
    ...(r.load.errorSamples.length ? { errorSamples: r.load.errorSamples } : {}),
  }));
}

// --- memory ---

export function memorySection(run: MemoryRun): string {
  const rows = run.results.map((r) => [
    MEMORY_LABEL[r.what], String(r.sessions), fixed(r.heapBytes / 2 ** 20, 1), fixed(r.mbPer100k, 1), fixed(r.bytesPerSession, 0),
    String(r.recordJsonBytes),
  ]);
  const { held } = run;
  const lines = [
    'Memory per 100,000 sessions: V8 heap used (after full GCs) before and after putting oidc-provider-like Session records '
      + '(accountId, 1-2 client authorizations with sid and grantId, loginTs, exp; routed ids) into each store',
    formatTable(['store', 'sessions', 'heap MB', 'MB per 100k', 'B per session', 'JSON B'], rows, range(1, 5)),
    `peer: the three nodes share this process's heap, so each node's share is found by difference (close the replica's state `
      + `services, collect, close the owner's, collect); ${fixed(run.residualBytes / 2 ** 20, 1)} MB stayed above the baseline `
      + `afterwards. Held: owner ${held.owner}, replica ${held.replica}, third node ${held.bystander}. `
      + `Fill time: local ${fixed(run.putSeconds.local, 1)} s, peer ${fixed(run.putSeconds.peer, 1)} s.`,
  ];
  if (run.errors > 0) lines.push(`errors: ${run.errors}: ${run.errorSamples.join(' | ')}`);
  return lines.join('\n');
}

export function memoryJson(run: MemoryRun): string[] {
  return run.results.map((r) => JSON.stringify({
    bench: 'cluster-memory', store: r.what, sessions: r.sessions, heapBytes: r.heapBytes, mbPer100k: round(r.mbPer100k, 2),
    bytesPerSession: round(r.bytesPerSession, 0), recordJsonBytes: r.recordJsonBytes,
    ...(r.what.startsWith('peer') ? { residualBytes: run.residualBytes, held: run.held } : {}),
    errors: run.errors,
  }));
}
