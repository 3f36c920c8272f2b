// Starts bench/bare-provider.js as a child process (its own process, like Cohort, so both servers get the same
// isolation from the load generator) and waits, bounded, for its ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { REDIRECT_URI, type RunningTarget } from './cohort-target.js';

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const MAX_STDERR_CHARS = 20_000;
const PROGRAM = fileURLToPath(new URL('./bare-provider.js', import.meta.url));

const children = new Set<ChildProcess>();
// Last resort: whatever way this process ends, no baseline server outlives it.
process.on('exit', () => { for (const child of children) child.kill('SIGKILL'); });

export async function startBareTarget(): Promise<RunningTarget> {
  const target = {
    clientId: 'bench-client', clientSecret: randomBytes(32).toString('base64url'), redirectUri: REDIRECT_URI,
    username: 'bench-user', password: randomBytes(18).toString('base64url'),
  };
  const child = spawn(process.execPath, [PROGRAM], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, NODE_ENV: 'production',
      BENCH_CLIENT_ID: target.clientId, BENCH_CLIENT_SECRET: target.clientSecret, BENCH_REDIRECT_URI: target.redirectUri,
      BENCH_USERNAME: target.username, BENCH_PASSWORD: target.password,
    },
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve(); }));
  let stderr = '';
  // Always drained, so a chatty child can never block on a full pipe; only the start is kept for error messages.
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { if (stderr.length < MAX_STDERR_CHARS) stderr += c; });
  let stdout = '';
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bare provider did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      if (stdout.length < MAX_STDERR_CHARS) stdout += c;
      const line = stdout.split('\n').find((l) => l.includes('"bare.started"'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bare provider exited (${code ?? signal}) before starting: ${stderr}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    ...target, issuer, passwordCheck: 'plain', pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
