// `cohort config export` and `cohort config import`: the runtime configuration (clients, service providers, keys,
// settings) as an integrity-checked archive whose secrets are encrypted under the cluster secret.
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import type { CohortConfig } from '../../config/types.js';
import { readClusterSecret } from '../../cluster/secret-file.js';
import { ArchiveError, createArchive, openArchive } from '../../runtime/archive.js';
import { importContent } from '../../runtime/import.js';
import { stagedContent } from '../../runtime/snapshot.js';
import { CliError, parse, resolveDataDir, wantsHelp, type CliIO } from '../command.js';
import { openCliStore, withStore } from './users-store.js';

export const EXPORT_HELP = `Usage: cohort config export [--out FILE] [--data-dir DIR]

Writes the runtime configuration of the data directory's store (OIDC clients, SAML service providers, signing
and cookie keys, runtime settings) as a configuration archive: JSON whose key material and client secret hashes
are encrypted under the cluster secret, with a MAC over the rest. On a console this is the staged configuration.

  --out FILE       Write the archive to FILE (mode 0600) instead of stdout.
  --data-dir DIR   Data directory (default: $COHORT_DATA_DIR, else ./cohort-data); its cluster secret
                   (cluster.secret or DIR/cluster-secret) keys the archive.
  -h, --help       Show this help.
`;

export const IMPORT_HELP = `Usage: cohort config import --file FILE [--data-dir DIR] [--secret-file FILE]

Checks a configuration archive's integrity, then writes its content into the data directory's store (the staged
configuration on a console: publish it afterwards). Idempotent: clients with an existing client_id are replaced,
keys already present are kept. A new data directory becomes a working node.

  --file FILE         The archive (from cohort config export).
  --secret-file FILE  The cluster secret of the cluster that made the archive (default: this data directory's
                      own cluster secret, for an archive of the same cluster).
  --data-dir DIR      Data directory (default: $COHORT_DATA_DIR, else ./cohort-data); created if missing.
  -h, --help          Show this help.
`;

function configFor(dataDir: string, env: NodeJS.ProcessEnv): CohortConfig {
  try {
    return loadConfig({ env, overrides: { dataDir } });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1);
    throw err;
  }
}

function secretOf(dataDir: string, config: CohortConfig, file?: string): string {
  try {
    return file ? readFileSync(file, 'utf8').trim() : readClusterSecret(dataDir, config.cluster.secret);
  } catch (err) {
    throw new CliError(`cannot read the cluster secret: ${(err as Error).message}`, 1);
  }
}

export async function exportArchive(argv: string[], io: CliIO): Promise<number> {
  if (wantsHelp(argv)) { io.stdout.write(EXPORT_HELP); return 0; }
  const { values } = parse(argv, { out: { type: 'string' }, 'data-dir': { type: 'string' } }, false);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const config = configFor(dataDir, io.env);
  const secret = secretOf(dataDir, config);
  return withStore(io, 'config export', openCliStore, dataDir, { mustExist: true }, async (store) => {
    io.stderr.write(`Reading the configuration of ${dataDir}...\n`);
    const content = await stagedContent(store, config);
    const archive = createArchive(content, secret, config.cluster.name);
    const text = `${JSON.stringify(archive, null, 2)}\n`;
    if (values.out) writeFileSync(values.out, text, { mode: 0o600 });
    else io.stdout.write(text);
    io.stderr.write(`Exported ${content.clients.length} client(s), ${content.serviceProviders.length} service provider(s), `
      + `${content.keys.length} key(s) and the settings${values.out ? ` to ${values.out}` : ''}.\n`);
    return 0;
  });
}

export async function importArchive(argv: string[], io: CliIO): Promise<number> {
  if (wantsHelp(argv)) { io.stdout.write(IMPORT_HELP); return 0; }
  const { values } = parse(argv, { file: { type: 'string' }, 'secret-file': { type: 'string' }, 'data-dir': { type: 'string' } }, false);
  if (!values.file) throw new CliError('--file is required');
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const config = configFor(dataDir, io.env);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(values.file, 'utf8'));
  } catch (err) {
    io.stderr.write(`cohort config import: cannot read ${values.file} as JSON: ${(err as Error).message}\n`);
    return 1;
  }
  const secret = secretOf(dataDir, config, values['secret-file']);
  let opened: ReturnType<typeof openArchive>;
  try {
    opened = openArchive(raw, secret);
  } catch (err) {
    if (!(err instanceof ArchiveError)) throw err;
    io.stderr.write(`cohort config import: ${err.message}\n`);
    return 1;
  }
  io.stderr.write(`Archive of cluster '${opened.clusterName}' made ${opened.createdAt}: integrity verified.\n`);
  return withStore(io, 'config import', openCliStore, dataDir, { mustExist: false }, async (store) => {
    const summary = await importContent(store, opened.content, 'cli');
    io.stderr.write(`Imported ${summary.clients} client(s), ${summary.serviceProviders} service provider(s), `
      + `${summary.keysAdded} new key(s) (${summary.keysRetired} retired) and the settings into ${dataDir}.\n`);
    return 0;
  });
}
