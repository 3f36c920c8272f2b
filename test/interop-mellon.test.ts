// Interoperability with Apache's mod_auth_mellon (lasso), an SP nobody here wrote: runs scripts/interop/mellon.sh,
// which signs in through a private Apache over HTTP-POST and HTTP-Artifact against a two-node cluster and checks
// single logout. Skipped where Apache or mod_auth_mellon is not installed (.ci/run installs both).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './support/processes.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'interop', 'mellon.sh');
const TIMEOUT_MS = 180_000;

function missing(): string | undefined {
  if (process.platform !== 'linux') return 'mod_auth_mellon interop runs on Linux (Debian packages) only';
  if (!existsSync('/usr/sbin/apache2')) return 'apache2 is not installed (apt-get install apache2 libapache2-mod-auth-mellon)';
  if (!existsSync('/usr/lib/apache2/modules/mod_auth_mellon.so')) {
    return 'mod_auth_mellon is not installed (apt-get install libapache2-mod-auth-mellon)';
  }
  return undefined;
}

function run(): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout stops the script and everything it started (its traps clean up on TERM).
    const child = spawn('bash', [SCRIPT], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => { output += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { output += c; });
    const signalGroup = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal); } catch { /* already gone */ } };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), 15_000);
    }, TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, output, timedOut });
    });
  });
}

describe('interop: Apache mod_auth_mellon', () => {
  const reason = missing();
  it('signs in over HTTP-POST and HTTP-Artifact and logs out through mod_auth_mellon', { skip: reason ?? false, timeout: TIMEOUT_MS + 30_000 }, async () => {
    const result = await run();
    const tail = result.output.split('\n').slice(-60).join('\n');
    assert.ok(!result.timedOut, `scripts/interop/mellon.sh did not finish within ${TIMEOUT_MS / 1000} s:\n${tail}`);
    assert.equal(result.code, 0, `scripts/interop/mellon.sh failed (${result.code ?? result.signal}):\n${tail}`);
    assert.match(result.output, /mellon interop OK/);
  });
});
