// `npm run bench`: Cohort against a bare oidc-provider. All servers are started first and stay up, but only one takes
// load at a time; the rows of one scenario run back to back (Cohort, then bare), so that a disturbance from elsewhere
// on the machine falls on both sides of a ratio alike. The load generator shares the CPUs with the server under
// test; see docs/benchmarks.md.
import { DEFAULT_SCRYPT } from '../src/auth/password.js';
import { startBareTarget } from './bare-target.js';
import { CpuMeter } from './cpu-meter.js';
import { startCohortTarget, type RunningTarget } from './cohort-target.js';
import { runLoad, type Workload } from './load.js';
import { machineFacts } from './machine.js';
import { HELP, parseOptions, SCENARIOS, UsageError, type BenchOptions, type Scenario } from './options.js';
import { addRatios, DISTURBED_OTHER_PERCENT, jsonLine, otherPercent, table, type BenchResult } from './report.js';
import { TokenEndpoint } from './token-endpoint.js';
import {
  clientCredentialsWorkload, discoverEndpoints, refreshWorkload, signInWorkload, type Endpoints,
} from './workloads.js';

/** scrypt N of the second Cohort sign-in run: the smallest Cohort accepts, so what remains is everything else. */
const LOW_SCRYPT_COST = 1024;
/** Slack on top of the measured time for starting servers and CLI runs; past it the run is abandoned. */
const WATCHDOG_SLACK_SECONDS = 180;
/** Pause after the servers started: a fresh node process keeps a core busy for about a second (compiler, GC). */
const SETTLE_MS = 2_000;

type ServerName = 'cohort' | 'cohort-low-cost' | 'bare';

interface Server {
  target: RunningTarget;
  endpoints: Endpoints;
  tokens: TokenEndpoint;
}

const live = new Set<RunningTarget>();
const clients = new Set<TokenEndpoint>();
/** Aborted on SIGINT/SIGTERM: the workers stop sending, so the servers can shut down at once. */
const interrupted = new AbortController();

async function stopAll(): Promise<void> {
  for (const tokens of clients) tokens.close();
  clients.clear();
  await Promise.allSettled([...live].map(async (t) => { await t.stop(); live.delete(t); }));
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function startServer(name: ServerName, workers: number): Promise<Server> {
  progress(`starting ${name}`);
  const target = await (name === 'bare' ? startBareTarget() : startCohortTarget(name === 'cohort' ? DEFAULT_SCRYPT.cost : LOW_SCRYPT_COST));
  live.add(target);
  const endpoints = await discoverEndpoints(target.issuer);
  const tokens = new TokenEndpoint(endpoints.token, target.clientId, target.clientSecret, workers);
  clients.add(tokens);
  return { target, endpoints, tokens };
}

/** The rows in the order they run: per scenario, each Cohort variant, then the bare server. */
function plan(only: Scenario[]): Array<{ scenario: Scenario; server: ServerName }> {
  const rows: Array<{ scenario: Scenario; server: ServerName }> = [];
  for (const scenario of SCENARIOS.filter((s) => only.includes(s))) {
    // Only the sign-in checks a password, so only it runs at the second scrypt cost.
    const servers: ServerName[] = scenario === 'signin' ? ['cohort', 'cohort-low-cost', 'bare'] : ['cohort', 'bare'];
    for (const server of servers) rows.push({ scenario, server });
  }
  return rows;
}

async function measure(scenario: Scenario, serverName: ServerName, server: Server, options: BenchOptions): Promise<BenchResult> {
  const { target, endpoints, tokens } = server;
  const workload: Workload = scenario === 'cc' ? clientCredentialsWorkload(tokens)
    : scenario === 'refresh' ? refreshWorkload(target, endpoints, tokens)
      : signInWorkload(target, endpoints, tokens);
  const passwordCheck = scenario === 'signin' ? target.passwordCheck : '-';
  progress(`  ${scenario}: ${serverName}${scenario === 'signin' ? ` (${passwordCheck})` : ''} ...`);
  const load = await runLoad(workload, options, new CpuMeter(target.pid), interrupted.signal);
  progress(`    ${load.perSecond.toFixed(1)}/s, ${load.errors} errors`);
  return { scenario, server: serverName === 'bare' ? 'bare' : 'cohort', passwordCheck, load };
}

function header(options: BenchOptions): string {
  const m = machineFacts();
  return [
    `Cohort benchmarks, ${new Date().toISOString()}`,
    `machine: ${m.cpuModel} x ${m.cpuCount} CPUs, ${m.totalMemoryGiB} GiB RAM, ${m.platform}, Node ${m.node}, load average ${m.loadAverage1m}`,
    `load: ${options.workers} concurrent workers, ${options.seconds} s measured after ${options.warmupSeconds} s warm-up per row, `
      + 'one server under load at a time; load generator and server share the same CPUs',
    `password hash: Cohort scrypt N=${DEFAULT_SCRYPT.cost} r=${DEFAULT_SCRYPT.blockSize} p=${DEFAULT_SCRYPT.parallelization} (default) `
      + `and N=${LOW_SCRYPT_COST} (to show the cost without hashing); bare oidc-provider: plain string comparison`,
  ].join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${HELP}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  const rows = plan(options.only);
  const budgetSeconds = rows.length * (options.seconds + options.warmupSeconds) + WATCHDOG_SLACK_SECONDS;
  setTimeout(() => {
    progress(`bench: abandoned after ${budgetSeconds} s`);
    void stopAll().finally(() => process.exit(1));
  }, budgetSeconds * 1000).unref();

  process.stdout.write(`${header(options)}\n\n`);
  const results: BenchResult[] = [];
  try {
    const servers = new Map<ServerName, Server>();
    for (const name of new Set(rows.map((r) => r.server))) {
      interrupted.signal.throwIfAborted();
      servers.set(name, await startServer(name, options.workers));
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    for (const row of rows) {
      interrupted.signal.throwIfAborted();
      results.push(await measure(row.scenario, row.server, servers.get(row.server)!, options));
    }
  } finally {
    if (!interrupted.signal.aborted) await stopAll();
  }
  addRatios(results);
  const lines = [table(results), ''];
  const disturbed = results.filter((r) => (otherPercent(r) ?? 0) > DISTURBED_OTHER_PERCENT);
  if (disturbed.length > 0) {
    lines.push(`warning: other processes used over ${DISTURBED_OTHER_PERCENT} % of the CPUs during ${disturbed.length} row(s); `
      + 'their ok/s and ratios are understated: rerun on a quiet machine, or compare srv CPU ms/op');
  }
  for (const r of results.filter((x) => x.load.errorSamples.length > 0)) {
    lines.push(`errors in ${r.scenario} on ${r.server} (${r.passwordCheck}): ${r.load.errorSamples.join(' | ')}`);
  }
  lines.push(...results.map((r) => jsonLine(r, options)));
  process.stdout.write(`${lines.join('\n')}\n`);
  return results.some((r) => r.load.errors > 0) ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`bench: ${signal}, stopping servers`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => { process.exitCode = code; },
  async (err: Error) => {
    if (interrupted.signal.aborted) return; // the signal handler reports and exits
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
