// HAProxy for the sign-in rows: the configuration comes from src/cli/haproxy.ts (what `cohort cluster up` runs),
// by default without the sticky cookie, so round-robin sends each request of a sign-in to the next node. The process
// is tracked and killed with everything else this benchmark started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haproxyConfig, type BalancedNode } from '../../src/cli/haproxy.js';
import { track } from './cleanup.js';

const INSTALL_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 20_000;

function haproxyVersion(): string | undefined {
  const run = spawnSync('haproxy', ['-v'], { encoding: 'utf8', timeout: 5_000 });
  return run.status === 0 ? run.stdout.split('\n')[0]!.trim() : undefined;
}

/** The installed HAProxy's version line; installs the Debian package first when it is missing (as root only). */
export function ensureHaproxy(progress: (line: string) => void): string {
  const found = haproxyVersion();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error('haproxy is not installed and this is not root: apt-get install haproxy, then run again');
  progress('  haproxy not found: apt-get update -qq && apt-get install -y -qq haproxy');
  const install = spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq haproxy'], {
    stdio: ['ignore', 'inherit', 'inherit'], timeout: INSTALL_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = haproxyVersion();
  if (install.status !== 0 || !installed) throw new Error(`installing haproxy failed (exit ${install.status ?? install.signal})`);
  return installed;
}

export interface RunningBalancer {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts `haproxy -db -f cfg` on 127.0.0.1:port and waits until it forwards /status/v2/lbstatus with 200s. */
export async function startHaproxy(port: number, nodes: BalancedNode[], stickyCookie = false): Promise<RunningBalancer> {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-haproxy-'));
  const cfgFile = join(dir, 'haproxy.cfg');
  writeFileSync(cfgFile, haproxyConfig({ bindHost: '127.0.0.1', port, nodes, stickyCookie }));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (c: string) => output.push(c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => output.push(c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const untrack = track(`haproxy ${child.pid}`, () => child.kill('SIGKILL'), stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    // HAProxy marks a server up after two good health checks a second apart; until then it may answer 503.
    // Require one full round of 200s (round-robin visits each node once) before measuring.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let streak = 0;
    while (streak < 2 * nodes.length) {
      if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${output.join('')}`);
      if (Date.now() > deadline) throw new Error(`haproxy on ${url} did not forward to every node within ${READY_TIMEOUT_MS} ms:\n${output.join('')}`);
      try {
        const res = await fetch(`${url}/status/v2/lbstatus`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        streak = res.status === 200 ? streak + 1 : 0;
      } catch {
        streak = 0;
      }
      if (streak === 0) await new Promise((r) => setTimeout(r, 200));
    }
  } catch (error) {
    await stop();
    untrack();
    throw error;
  }
  return {
    url, pid: child.pid,
    async stop() {
      await stop();
      untrack();
    },
  };
}
