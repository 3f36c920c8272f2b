// What the `users` and `clients` commands share: opening the durable store of a data directory, turning store
// failures into CLI errors, and printing tables.
import { DEFAULT_SCRYPT, type ScryptParams } from '../../auth/password.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { openDurableStore, storeBackendOf, StoreError, type DurableStore, type StoreBackend } from '../../store/index.js';
import { CliError, type CliIO } from '../command.js';

/**
 * The scrypt parameters for new password hashes written by the CLI in `dataDir`. The one place to connect to the
 * configuration loader (auth.scrypt of the data directory's configuration); until then, the built-in defaults.
 * Old hashes verify whatever this returns, since every hash records its own parameters.
 */
export async function scryptParamsFor(dataDir: string): Promise<ScryptParams> {
  void dataDir;
  return { ...DEFAULT_SCRYPT };
}

/**
 * The store backend the data directory's configuration chooses (cohort.json there, then COHORT_* variables), so
 * the CLI works on the same database as the nodes: the SQLite file, or the shared PostgreSQL database.
 */
export function storeBackendFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): StoreBackend {
  try {
    return storeBackendOf(loadConfig({ env, overrides: { dataDir } }));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** Opens the store of a data directory; tests inject one with cheap scrypt parameters. */
export type StoreOpener = (dataDir: string, options: { mustExist: boolean; env?: NodeJS.ProcessEnv }) => Promise<DurableStore>;

export const openCliStore: StoreOpener = async (dataDir, { mustExist, env }) =>
  openDurableStore(dataDir, { scrypt: await scryptParamsFor(dataDir), mustExist, backend: storeBackendFor(dataDir, env) });

/**
 * Runs `body` on the data directory's store and always closes it. Store failures become exit codes:
 * INVALID input is a usage error (2, with the hint to --help); NOT_FOUND, CONFLICT and UNAVAILABLE are reported on
 * stderr as plain failures (1). The error's message only: never a stack trace, and StoreError messages carry no
 * secrets or hashes.
 */
export async function withStore(
  io: CliIO,
  command: string,
  open: StoreOpener,
  dataDir: string,
  options: { mustExist: boolean },
  body: (store: DurableStore) => Promise<number>,
): Promise<number> {
  let store: DurableStore | undefined;
  try {
    store = await open(dataDir, { ...options, env: io.env });
    return await body(store);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    if (err.code === 'INVALID') throw new CliError(err.message, 2);
    const hint = err.code === 'NOT_FOUND' && !store ? ' (pass --data-dir or set COHORT_DATA_DIR)' : '';
    io.stderr.write(`cohort ${command}: ${err.message}${hint}\n`);
    return 1;
  } finally {
    await store?.close();
  }
}

/** "a, b,,c" → ['a', 'b', 'c']: the CLI's comma-separated lists. */
export function splitList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Left-aligned columns separated by two spaces; a header row first. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

export const isoTime = (ms: number) => new Date(ms).toISOString();
