// The cluster secret on disk: <dataDir>/cluster-secret, mode 0600, created by `cohort cluster init`.
// Every node of a cluster must hold the same file (or set cluster.secret / COHORT_CLUSTER_SECRET).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateClusterSecret } from './secret.js';
import { ClusterError } from './errors.js';

export const SECRET_FILE = 'cluster-secret';

export function secretFilePath(dataDir: string): string {
  return join(dataDir, SECRET_FILE);
}

/** Writes a new secret unless one exists (or `force`); returns the file's path. */
export function ensureClusterSecret(dataDir: string, force = false): string {
  const file = secretFilePath(dataDir);
  if (force || !existsSync(file)) writeFileSync(file, `${generateClusterSecret()}\n`, { mode: 0o600 });
  return file;
}

/** cluster.secret when set, else the secret file; a clear error when neither exists. */
export function readClusterSecret(dataDir: string, configured: string): string {
  if (configured) return configured;
  const file = secretFilePath(dataDir);
  if (!existsSync(file)) {
    throw new ClusterError('CLUSTER_CONFIG', `no cluster secret: set cluster.secret or run 'cohort cluster init --data-dir ${dataDir}' and copy ${file} to every node`);
  }
  return readFileSync(file, 'utf8').trim();
}
