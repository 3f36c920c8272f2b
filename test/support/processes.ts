// Real Cohort processes for end-to-end tests: `cohort start` children on free loopback ports and one-shot CLI runs.
// Every child is tracked and killed in cleanup, also when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const COHORT_BIN = join(REPO_ROOT, 'bin', 'cohort.js');

/** Cheap password hashing for tests: the production cost is measured in bench/, not here. */
export const FAST_ENV: NodeJS.ProcessEnv = {
  COHORT_AUTH_SCRYPT_COST: '1024', COHORT_LOG_LEVEL: 'info',
  // Test relying parties listen on loopback.
  COHORT_OIDC_ALLOW_PRIVATE_NETWORK_REQUESTS: 'true',
};

export interface CohortProcess {
  url: string;
  issuer: string;
  child: ChildProcess;
  logs: string[];
  stderr: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

export function tempDir(prefix = 'cohort-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

function baseEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...FAST_ENV, ...extra };
  return env;
}

export async function startCohort(options: {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
  timeoutMs?: number;
}): Promise<CohortProcess> {
  const child = spawn(process.execPath, [COHORT_BIN, 'start', '--data-dir', options.dataDir, '--port', '0', ...(options.args ?? [])], {
    env: baseEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve(); }));
  let buffered = '';
  const started = new Promise<{ url: string; issuer: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cohort did not start within ${options.timeoutMs ?? 20_000} ms:\n${logs.join('\n')}\n${stderr.join('')}`)), options.timeoutMs ?? 20_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { event?: string; url?: string; issuer?: string };
          if (entry.event === 'node.started' && entry.url && entry.issuer) {
            clearTimeout(timer);
            resolve({ url: entry.url, issuer: entry.issuer });
          }
        } catch { /* not JSON: kept in logs for the failure message */ }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`cohort exited (${code ?? signal}) before starting:\n${logs.join('\n')}\n${stderr.join('')}`));
    });
  });
  const { url, issuer } = await started;
  return {
    url, issuer, child, logs, stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface CliResult { code: number; stdout: string; stderr: string }

export function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COHORT_BIN, ...args], { env: baseEnv(options.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cohort ${args.join(' ')} timed out`)); }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => { clearTimeout(timer); running.delete(child); resolve({ code: code ?? 1, stdout, stderr }); });
    child.stdin.end(options.stdin ?? '');
  });
}
