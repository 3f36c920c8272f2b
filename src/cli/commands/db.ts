// `cohort db migrate`: applies pending schema migrations to the durable store, one progress line per migration.
// Meant for PostgreSQL with store.migrateOnStart off (migrate once, before rolling out a new version), and safe at
// any time: migrations run under an advisory lock, each in its own transaction.
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { describeStore, openDurableStore, storeBackendOf, StoreError } from '../../store/index.js';
import { CliError, parse, type CliIO, type Command } from '../command.js';

const HELP = `Usage: cohort db migrate [options]

Applies the pending schema migrations of the durable store and prints a line for each one applied.

PostgreSQL (store.backend = postgres, or --database-url): each migration runs in its own transaction, under an
advisory lock, so running this while nodes start or serve is safe and several runs at once migrate once. Nodes
do the same at start unless store.migrateOnStart is false; then run this before starting a new version.
SQLite: migrates <data dir>/cohort.db, which must exist (nodes create it at first start).

Options:
  --database-url URL   PostgreSQL database to migrate, postgres://user:password@host:5432/db
                       (default: store.postgres.url). Prefer COHORT_STORE_POSTGRES_URL: a password in
                       a command line is visible to other users in the process list.
  --data-dir DIR       data directory (env COHORT_DATA_DIR, default ./cohort-data): its cohort.json and,
                       for SQLite, its cohort.db
  --config FILE        configuration file (default DIR/cohort.json when it exists)
  -h, --help           show this help

Exit status: 0 when the schema is current, 1 when the database cannot be reached or a migration failed,
2 for invalid usage.
`;

async function migrate(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, config: { type: 'string' },
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  const url = values['database-url'];
  let config;
  try {
    config = loadConfig({
      ...(values.config ? { file: values.config } : {}),
      env: io.env,
      overrides: {
        dataDir: values['data-dir'],
        ...(url === undefined ? {} : { 'store.backend': 'postgres', 'store.postgres.url': url }),
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1);
    throw err;
  }
  const configured = storeBackendOf(config);
  // Migrating is the point of this command, whatever store.migrateOnStart says about starting nodes.
  const backend = configured.kind === 'postgres' ? { ...configured, migrate: true } : configured;
  const target = describeStore(config.dataDir, backend);
  io.stdout.write(`Migrating ${target}\n`);
  let applied = 0;
  try {
    const store = await openDurableStore(config.dataDir, {
      scrypt: config.auth.scrypt,
      backend,
      // A mistyped --data-dir must not create an empty SQLite database; PostgreSQL has no such question.
      mustExist: backend.kind === 'sqlite',
      onMigration: (m) => {
        applied += 1;
        io.stdout.write(`  applied ${String(m.version).padStart(3, '0')} ${m.name} (${m.ms} ms)\n`);
      },
    });
    await store.close();
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    io.stderr.write(`cohort db: ${err.message}\n`);
    return 1;
  }
  io.stdout.write(applied === 0 ? 'Nothing to apply: the schema is current.\n'
    : `${applied} migration${applied === 1 ? '' : 's'} applied: the schema is current.\n`);
  return 0;
}

export const dbCommand: Command = {
  name: 'db',
  summary: 'Apply pending schema migrations to the durable store',
  help: HELP,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'migrate') return migrate(rest, io);
    throw new CliError(sub === undefined ? 'missing subcommand (migrate)' : `unknown subcommand '${sub}'`);
  },
};
