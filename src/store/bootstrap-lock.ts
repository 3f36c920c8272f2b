// Several nodes may start at once on one data directory (`cohort cluster up`, a shared volume). Creating the keys
// and the first administrator must happen exactly once, or nodes would sign with different keys. An exclusively
// created lock file serialises them: the first creates everything, the others wait and then find it in place.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const LOCK_FILE = '.bootstrap.lock';
/** A lock older than this was left by a process that died mid-bootstrap (bootstrap takes well under a second). */
const STALE_MS = 30_000;
const WAIT_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function stale(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    return Date.now() - statSync(path).mtimeMs > STALE_MS || (Number.isInteger(pid) && pid > 0 && !pidAlive(pid));
  } catch {
    return false;
  }
}

export async function withBootstrapLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const path = join(dataDir, LOCK_FILE);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (stale(path)) rmSync(path, { force: true });
      else if (Date.now() > deadline) throw new Error(`another process holds ${path}; remove it if no Cohort process is starting`);
      else await delay(50);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}
