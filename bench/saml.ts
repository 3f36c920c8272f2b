// `node dist/bench/saml.js`: SAML web SSO round trips per second on one Cohort node, for a browser that is already
// signed in (each worker signs in once while it is prepared, untimed), next to the OpenID Connect round trip of the
// same browser as the baseline. Rows, one at a time, in this order:
//   oidc       authorization request -> code at the redirect URI (no token exchange)
//   post       AuthnRequest over HTTP-Redirect -> /auth -> /saml/continue -> SAMLResponse form; response signed
//   encrypted  as post, response and assertion signed, assertion encrypted (AES-256-GCM, RSA-OAEP)
//   artifact   as post, answered over HTTP-Artifact (303 to the SP with SAMLart), then, as a row of its own, the
//              signed SOAP ArtifactResolve of those artifacts at /saml/artifact
// The SPs are test/support/saml-sp.ts's TestSp (node-saml builds the AuthnRequests; one answer per SP is validated
// by node-saml before its row), registered with `cohort sps add` before the node starts. scrypt N=1024, as the
// low-cost row of bench/run.ts; sign-ins are not measured here. Every process started is stopped at the end, on
// failure, on SIGINT/SIGTERM and by a watchdog (bench/cluster/cleanup.ts).
import type { SAML } from '@node-saml/node-saml';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Browser } from '../test/support/browser.js';
import { artifactAuthnRequestUrl, resolveArtifact } from '../test/support/saml-artifact.js';
import { samlSignIn, TestSp } from '../test/support/saml-sp.js';
import { runCli } from '../test/support/processes.js';
import { signIn } from '../test/support/signin.js';
import { stopEverything, track } from './cluster/cleanup.js';
import { formatTable } from './cluster/report.js';
import { startCohortTarget, type RunningTarget } from './cohort-target.js';
import { CpuMeter } from './cpu-meter.js';
import { runLoad, type LoadResult, type WorkerState, type Workload } from './load.js';
import { machineFacts } from './machine.js';
import { bounded, UsageError } from './options.js';
import { DISTURBED_OTHER_PERCENT } from './report.js';
import { authorizationRequest, discoverEndpoints, type Endpoints } from './workloads.js';

/** scrypt N: the smallest Cohort accepts; only the untimed sign-in per worker hashes a password. */
const SCRYPT_COST = 1024;
const SETTLE_MS = 2_000;
/** Beyond the measured time: node start, CLI runs, sign-ins, artifact top-ups; past it the run is abandoned. */
const WATCHDOG_SLACK_SECONDS = 150;
/** saml.artifactLifetimeSeconds' default: older artifacts are not offered to the resolve row. */
const ARTIFACT_LIFETIME_MS = 30_000;
/** Artifacts made for the resolve row: its measured seconds at the pilot's rate, times this. */
const ARTIFACT_MARGIN = 1.5;
const MAX_TOP_UPS = 4;
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export type SamlRow = 'oidc' | 'post' | 'encrypted' | 'artifact-sso' | 'artifact-resolve';
type Group = 'oidc' | 'post' | 'encrypted' | 'artifact';
const GROUPS: readonly Group[] = ['oidc', 'post', 'encrypted', 'artifact'];

const ROW_LABEL: Record<SamlRow, [string, string]> = {
  oidc: ['OIDC SSO (code at redirect URI)', 'code, no token exchange'],
  post: ['SAML SSO, HTTP-POST', 'response signed'],
  encrypted: ['SAML SSO, HTTP-POST', 'resp.+assertion signed, AES-256-GCM'],
  'artifact-sso': ['SAML SSO, HTTP-Artifact', 'response signed, SAMLart to SP'],
  'artifact-resolve': ['SAML ArtifactResolve (SOAP)', 'signed request, 1 call'],
};

interface SamlOptions { seconds: number; warmupSeconds: number; workers: number; only: Group[] }

const HELP = `Usage: node dist/bench/saml.js [options]

SAML 2.0 web SSO round trips per second on one Cohort node (scrypt N=${SCRYPT_COST}), for a browser that is already
signed in (every worker signs in once, untimed, before each row), next to the OpenID Connect round trip of the same
browser. Prints a table, then one JSON line per row (grep '^{"bench"').

Rows (--only takes the group names):
  oidc       authorization request -> code at the redirect URI (no token exchange): the baseline
  post       AuthnRequest over HTTP-Redirect -> SAMLResponse in the POST form; response signed
  encrypted  as post; response and assertion signed, assertion encrypted with AES-256-GCM
  artifact   two rows: SSO answered over HTTP-Artifact (SAMLart at the SP's ACS), then the signed SOAP
             ArtifactResolve of those artifacts, timed on its own

Options:
  --seconds N     measured seconds per row (default 5, 1-120)
  --warmup N      warm-up seconds before each row (default 1, 0-30)
  --workers N     concurrent browsers (default 8, 1-64)
  --only LIST     comma-separated: ${GROUPS.join(', ')} (default: all)
  -h, --help      show this help
`;

function parseSamlOptions(argv: string[]): SamlOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false,
      options: {
        seconds: { type: 'string' }, warmup: { type: 'string' }, workers: { type: 'string' },
        only: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return undefined;
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...GROUPS];
  const unknown = only.find((g) => !(GROUPS as readonly string[]).includes(g));
  if (unknown !== undefined) throw new UsageError(`--only: unknown row '${unknown}' (use ${GROUPS.join(', ')})`);
  return {
    seconds: bounded('seconds', values.seconds, 5, 1, 120, false),
    warmupSeconds: bounded('warmup', values.warmup, 1, 0, 30, false),
    workers: bounded('workers', values.workers, 8, 1, 64, true),
    only: GROUPS.filter((g) => only.includes(g)),
  };
}

// --- the node and its service providers ---

interface Sps { post: TestSp; encrypted: TestSp; artifact: TestSp }

interface Setup {
  target: RunningTarget;
  endpoints: Endpoints;
  sps: Sps;
  /** node-saml instances of the POST SPs, made once: they build the AuthnRequests. */
  requesters: Map<TestSp, SAML>;
}

/** The SP whose answer is signed only at the response level: the default policy for an SP that does not ask for more. */
function responseSignedMetadata(sp: TestSp): string {
  const xml = sp.metadataXml();
  if (!xml.includes('WantAssertionsSigned="true"')) throw new Error('TestSp metadata changed: no WantAssertionsSigned="true"');
  return xml.replace('WantAssertionsSigned="true"', 'WantAssertionsSigned="false"');
}

async function start(progress: (line: string) => void): Promise<Setup> {
  const sps: Sps = { post: new TestSp('bench-post'), encrypted: new TestSp('bench-encrypted'), artifact: new TestSp('bench-artifact') };
  for (const sp of Object.values(sps)) {
    await sp.start();
    track(`SP ${sp.entityId}`, () => { void sp.stop(); }, () => sp.stop());
  }
  progress(`starting cohort (scrypt N=${SCRYPT_COST}) with 3 SAML service providers`);
  const target = await startCohortTarget(SCRYPT_COST, async (env) => {
    const dir = env.COHORT_DATA_DIR!;
    const postFile = join(dir, 'bench-post-sp.xml');
    writeFileSync(postFile, responseSignedMetadata(sps.post));
    const registrations: string[][] = [
      ['--metadata', postFile, '--name', 'Bench POST'],
      ['--metadata', sps.encrypted.writeMetadata(dir), '--name', 'Bench encrypted', '--encrypt', 'aes256-gcm', '--sign-assertion'],
      ['--metadata', sps.artifact.writeMetadata(dir), '--name', 'Bench artifact'],
    ];
    for (const args of registrations) {
      const added = await runCli(['sps', 'add', ...args], { env });
      if (added.code !== 0) throw new Error(`cohort sps add ${args.slice(2).join(' ')} failed: ${added.stderr}`);
    }
  });
  track(`cohort ${target.pid}`, () => { if (target.pid) process.kill(target.pid, 'SIGKILL'); }, () => target.stop());
  for (const sp of Object.values(sps)) await sp.trustIdp(target.issuer);
  const requesters = new Map([sps.post, sps.encrypted].map((sp) => [sp, sp.saml(target.issuer)]));
  return { target, endpoints: await discoverEndpoints(target.issuer), sps, requesters };
}

// --- the operations ---

const spOrigin = (sp: TestSp) => new URL(sp.acsUrl).origin;

/** A fresh authorization URL (state, nonce, S256 PKCE) for the bench client. */
function authorizationUrl(setup: Setup): { url: string; state: string } {
  const { url, state } = authorizationRequest(setup.target, setup.endpoints);
  return { url: url.href, state };
}

/** The untimed part of every row: a browser signed in once (login and consent pages), kept in the worker's state. */
async function signedInBrowser(setup: Setup, state: WorkerState): Promise<void> {
  const browser = new Browser();
  const { url } = authorizationUrl(setup);
  const result = await signIn(browser, url, setup.target.redirectUri, { username: setup.target.username, password: setup.target.password });
  if (!result.sawLoginPage) throw new Error('preparing a worker: no sign-in page was shown');
  state.browser = browser;
}

async function oidcRoundTrip(setup: Setup, browser: Browser): Promise<void> {
  const { url, state } = authorizationUrl(setup);
  const result = await signIn(browser, url, setup.target.redirectUri);
  if (result.sawConsentPage) throw new Error('OIDC SSO showed the consent page again');
  const callback = new URL(result.callbackUrl).searchParams;
  if (callback.get('state') !== state || !callback.get('code')) throw new Error(`callback without code or state: ${result.callbackUrl.slice(0, 200)}`);
}

/** SP-initiated SSO answered over HTTP-POST; returns the base64 SAMLResponse after checking what is cheap to check. */
async function postRoundTrip(setup: Setup, sp: TestSp, browser: Browser, encrypted: boolean): Promise<string> {
  const url = await setup.requesters.get(sp)!.getAuthorizeUrlAsync('', undefined, {});
  const arrival = await samlSignIn(browser, url, spOrigin(sp));
  if (!arrival.samlResponse) throw new Error('no SAMLResponse form');
  const xml = Buffer.from(arrival.samlResponse, 'base64').toString('utf8');
  if (!xml.includes(SUCCESS) || !xml.includes('SignatureValue')) throw new Error(`SAMLResponse not a signed success: ${xml.slice(0, 300)}`);
  if (encrypted !== xml.includes('EncryptedAssertion')) throw new Error(`SAMLResponse ${encrypted ? 'without' : 'with'} EncryptedAssertion`);
  return arrival.samlResponse;
}

async function artifactRoundTrip(setup: Setup, browser: Browser): Promise<string> {
  const sp = setup.sps.artifact;
  const arrival = await samlSignIn(browser, await artifactAuthnRequestUrl(setup.target.issuer, sp), spOrigin(sp));
  if (!arrival.samlArt) throw new Error(arrival.samlResponse ? 'answered over POST, not with an artifact' : 'no SAMLart at the SP');
  return arrival.samlArt;
}

async function resolveOne(setup: Setup, artifact: string): Promise<string> {
  const answer = await resolveArtifact(`${setup.target.issuer}/saml/artifact`, setup.sps.artifact, artifact);
  if (answer.status !== 200 || answer.statusCode !== SUCCESS || !answer.responseXml?.includes(SUCCESS)) {
    throw new Error(`ArtifactResolve: HTTP ${answer.status}, status ${answer.statusCode ?? '-'}, ${answer.responseXml ? 'a' : 'no'} Response`);
  }
  return answer.responseXml;
}

/** Artifacts made by the artifact-sso rows, oldest first, for the resolve row. */
class ArtifactPool {
  readonly #items: Array<{ artifact: string; at: number }> = [];

  add(artifact: string): void { this.#items.push({ artifact, at: Date.now() }); }

  /** Drops what would expire before `withinMs` from now; returns how many remain. */
  fresh(withinMs: number): number {
    const limit = Date.now() + withinMs - ARTIFACT_LIFETIME_MS;
    while (this.#items.length > 0 && this.#items[0]!.at < limit) this.#items.shift();
    return this.#items.length;
  }

  take(): string {
    const item = this.#items.pop();
    if (!item) throw new Error('artifact pool exhausted (the resolve row outran the artifacts made for it)');
    return item.artifact;
  }
}

const browserOf = (state: WorkerState) => state.browser as Browser;

function ssoWorkload(setup: Setup, row: Exclude<SamlRow, 'artifact-resolve'>, pool: ArtifactPool): Workload {
  const prepare = (state: WorkerState) => signedInBrowser(setup, state);
  switch (row) {
    case 'oidc': return { prepare, run: (s) => oidcRoundTrip(setup, browserOf(s)) };
    case 'post': return { prepare, run: async (s) => { await postRoundTrip(setup, setup.sps.post, browserOf(s), false); } };
    case 'encrypted': return { prepare, run: async (s) => { await postRoundTrip(setup, setup.sps.encrypted, browserOf(s), true); } };
    case 'artifact-sso': return { prepare, run: async (s) => { pool.add(await artifactRoundTrip(setup, browserOf(s))); } };
  }
}

// --- one check per SP before its rows: node-saml (the SP library) accepts what Cohort answered ---

async function validateOnce(setup: Setup, group: Group): Promise<void> {
  if (group === 'oidc') return;
  const state: WorkerState = {};
  await signedInBrowser(setup, state);
  const browser = browserOf(state);
  const { issuer } = setup.target;
  let profile;
  if (group === 'artifact') {
    const xml = await resolveOne(setup, await artifactRoundTrip(setup, browser));
    ({ profile } = await setup.sps.artifact.saml(issuer, { callbackUrl: setup.sps.artifact.artifactAcsUrl })
      .validatePostResponseAsync({ SAMLResponse: Buffer.from(xml).toString('base64') }));
  } else {
    const sp = setup.sps[group];
    const response = await postRoundTrip(setup, sp, browser, group === 'encrypted');
    // The POST SP asked for no assertion signature, so node-saml must not insist on one.
    ({ profile } = await sp.saml(issuer, group === 'post' ? { wantAssertionsSigned: false } : {}).validatePostResponseAsync({ SAMLResponse: response }));
  }
  if (!profile?.nameID) throw new Error(`${group}: node-saml accepted the answer but found no NameID`);
}

// --- measuring ---

export interface SamlResult { row: SamlRow; load: LoadResult; ratioToOidc?: number; artifactsMade?: number }

const interrupted = new AbortController();

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

function rowsOf(only: Group[]): SamlRow[] {
  return only.flatMap((g): SamlRow[] => (g === 'artifact' ? ['artifact-sso', 'artifact-resolve'] : [g]));
}

/**
 * The resolve row: a pilot of warm-up length gives its rate; the pool is then topped up (untimed artifact SSO rounds,
 * at the rate of the artifact SSO row) to ARTIFACT_MARGIN times what the measured seconds need, all young enough to
 * outlive the row. Each resolve takes one artifact: they resolve exactly once.
 */
async function measureResolve(setup: Setup, pool: ArtifactPool, options: SamlOptions, ssoRate: number): Promise<SamlResult> {
  const resolve: Workload = { run: async () => { await resolveOne(setup, pool.take()); } };
  const rate = Math.max(1, ssoRate);
  let made = 0;
  const topUp = async (wanted: number) => {
    const have = pool.fresh(0);
    const seconds = Math.min(ARTIFACT_LIFETIME_MS / 3000, Math.max(1, ((wanted - have) / rate) * 1.1));
    progress(`    ${have} artifacts, ~${wanted} wanted: making more for ${seconds.toFixed(1)} s (untimed)`);
    await runLoad(ssoWorkload(setup, 'artifact-sso', pool), { workers: options.workers, seconds, warmupSeconds: 0 }, undefined, interrupted.signal);
    made += pool.fresh(0) - have;
  };
  const pilotSeconds = Math.max(1, options.warmupSeconds);
  // A resolve is a fraction of an SSO round trip: enough for the pilot at up to 5 times the SSO rate.
  const forPilot = Math.ceil(rate * 5 * pilotSeconds) + options.workers;
  if (pool.fresh(pilotSeconds * 1000) < forPilot) await topUp(forPilot);
  const pilot = await runLoad(resolve, { workers: options.workers, seconds: pilotSeconds, warmupSeconds: 0 }, undefined, interrupted.signal);
  const needed = Math.ceil(pilot.perSecond * options.seconds * ARTIFACT_MARGIN) + options.workers;
  for (let i = 0; i < MAX_TOP_UPS && pool.fresh(options.seconds * 1000 + 2_000) < needed; i++) await topUp(needed);
  const load = await runLoad(resolve, { workers: options.workers, seconds: options.seconds, warmupSeconds: 0 },
    new CpuMeter(setup.target.pid), interrupted.signal);
  return { row: 'artifact-resolve', load, artifactsMade: made };
}

async function measure(setup: Setup, row: SamlRow, pool: ArtifactPool, options: SamlOptions, ssoRate: number): Promise<SamlResult> {
  progress(`  ${ROW_LABEL[row].join(', ')} ...`);
  const result = row === 'artifact-resolve' ? await measureResolve(setup, pool, options, ssoRate)
    : { row, load: await runLoad(ssoWorkload(setup, row, pool), options, new CpuMeter(setup.target.pid), interrupted.signal) };
  progress(`    ${result.load.perSecond.toFixed(1)}/s, ${result.load.errors} errors`);
  return result;
}

// --- output ---

const fixed = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const round = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? Number(n.toFixed(digits)) : null);
const serverMsPerOp = (r: SamlResult) => (r.load.cpu?.serverSeconds === undefined || r.load.ok === 0
  ? undefined : (r.load.cpu.serverSeconds * 1000) / r.load.ok);
const otherShare = (r: SamlResult) => (r.load.cpu?.otherSeconds === undefined
  ? undefined : (r.load.cpu.otherSeconds / r.load.cpu.capacitySeconds) * 100);

function header(options: SamlOptions, setup: Setup | undefined): string {
  const m = machineFacts();
  return [
    `Cohort SAML SSO benchmark, ${new Date().toISOString()}`,
    `machine: ${m.cpuModel} x ${m.cpuCount} CPUs, ${m.totalMemoryGiB} GiB RAM, ${m.platform}, Node ${m.node}, load average ${m.loadAverage1m}`,
    `load: ${options.workers} signed-in browsers, ${options.seconds} s measured after ${options.warmupSeconds} s warm-up per row, `
      + 'one row at a time; load generator (incl. the SP side: AuthnRequests, signed ArtifactResolves) and node share the same CPUs',
    `node: one 'cohort start' process, ${setup?.target.passwordCheck ?? `scrypt N=${SCRYPT_COST}`} (only the untimed sign-in per worker hashes)`,
  ].join('\n');
}

function section(results: SamlResult[]): string {
  const rows = results.map((r) => [
    ...ROW_LABEL[r.row], fixed(r.load.perSecond, 1), fixed(r.load.p50Ms, 1), fixed(r.load.p99Ms, 1), String(r.load.ok),
    String(r.load.errors), r.ratioToOidc === undefined ? '' : fixed(r.ratioToOidc, 2), fixed(serverMsPerOp(r), 2), fixed(otherShare(r), 0),
  ]);
  const lines = [formatTable(['operation', 'answer', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'errors', 'vs OIDC', 'srv CPU ms/op', 'other CPU %'],
    rows, new Set([2, 3, 4, 5, 6, 7, 8, 9]))];
  const resolve = results.find((r) => r.row === 'artifact-resolve');
  if (resolve) lines.push(`artifacts for the resolve row: made by the artifact SSO row and ${resolve.artifactsMade ?? 0} more made untimed just before it`);
  if (results.some((r) => (otherShare(r) ?? 0) > DISTURBED_OTHER_PERCENT)) {
    lines.push(`warning: other processes used over ${DISTURBED_OTHER_PERCENT} % of the CPUs during some rows: compare srv CPU ms/op, or rerun on a quiet machine`);
  }
  for (const r of results.filter((x) => x.load.errorSamples.length > 0)) lines.push(`errors in ${r.row}: ${r.load.errorSamples.join(' | ')}`);
  return lines.join('\n');
}

function jsonLine(r: SamlResult, options: SamlOptions, setup: Setup): string {
  return JSON.stringify({
    bench: `saml-${r.row}`, passwordCheck: setup.target.passwordCheck, workers: options.workers, seconds: round(r.load.elapsedSeconds, 3),
    ok: r.load.ok, errors: r.load.errors, perSecond: round(r.load.perSecond, 2), p50Ms: round(r.load.p50Ms, 2), p99Ms: round(r.load.p99Ms, 2),
    ratioToOidc: round(r.ratioToOidc, 3), serverCpuMsPerOp: round(serverMsPerOp(r), 3),
    generatorCpuSeconds: round(r.load.cpu?.generatorSeconds, 2), otherCpuPercent: round(otherShare(r), 1),
    ...(r.artifactsMade !== undefined ? { artifactsMadeUntimed: r.artifactsMade } : {}),
    ...(r.load.errorSamples.length ? { errorSamples: r.load.errorSamples } : {}),
  });
}

async function main(): Promise<number> {
  let options: SamlOptions | undefined;
  try {
    options = parseSamlOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench saml: ${err.message}\n\n${HELP}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  const rows = rowsOf(options.only);
  const budget = rows.length * (options.seconds + options.warmupSeconds) * 2 + WATCHDOG_SLACK_SECONDS;
  setTimeout(() => {
    progress(`bench saml: abandoned after ${budget} s`);
    interrupted.abort(new Error('watchdog'));
    void stopEverything(progress).finally(() => process.exit(1));
  }, budget * 1000).unref();

  const results: SamlResult[] = [];
  let setup: Setup | undefined;
  try {
    setup = await start(progress);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const pool = new ArtifactPool();
    for (const group of options.only) {
      interrupted.signal.throwIfAborted();
      await validateOnce(setup, group);
      for (const row of rowsOf([group])) {
        const ssoRate = results.find((r) => r.row === 'artifact-sso')?.load.perSecond ?? 0;
        results.push(await measure(setup, row, pool, options, ssoRate));
      }
    }
  } finally {
    if (!interrupted.signal.aborted) await stopEverything(progress);
  }
  const oidc = results.find((r) => r.row === 'oidc');
  for (const r of results) {
    if (oidc && r.row !== 'artifact-resolve' && oidc.load.perSecond > 0) r.ratioToOidc = r.load.perSecond / oidc.load.perSecond;
  }
  process.stdout.write(`${header(options, setup)}\n\n${section(results)}\n\n${results.map((r) => jsonLine(r, options, setup!)).join('\n')}\n`);
  return results.some((r) => r.load.errors > 0) ? 1 : 0;
}

/** Ctrl-C or a TERM: stop the workers, then everything this run started, once. */
function onSignal(signal: NodeJS.Signals): void {
  progress(`bench saml: ${signal}, stopping everything it started`);
  interrupted.abort(new Error(`interrupted by ${signal}`));
  void stopEverything(progress).finally(() => process.exit(130));
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  process.exitCode = await main();
} catch (err) {
  // After a signal or the watchdog, their handler reports and exits.
  if (!interrupted.signal.aborted) {
    process.stderr.write(`bench saml failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
