// `cohort config docs|show|export|import`: the configuration schema as documentation, the effective configuration of a
// node, and the runtime configuration archive (config-archive.ts).
import { parse, runSubcommand, type CliIO, type Command } from '../command.js';
import { renderMarkdown, renderText } from '../../config/docs.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { redactSecrets } from '../../config/redact.js';
import { EXPORT_HELP, exportArchive, IMPORT_HELP, importArchive } from './config-archive.js';

const USAGE = `Usage: cohort config <subcommand> [options]

Subcommands:
  docs [--markdown]                      Every setting with its environment variable, type and default
                                         (--markdown: the text of docs/configuration.md).
  show [--data-dir DIR] [--config FILE]  The effective configuration as JSON (defaults, file, COHORT_*
                                         environment), secrets redacted.
  export [--out FILE] [--data-dir DIR]   The runtime configuration (clients, service providers, keys,
                                         settings) as an archive encrypted under the cluster secret.
  import --file FILE [--data-dir DIR] [--secret-file FILE]
                                         Verify an archive and write its content into the store.
  (each subcommand takes --help)
`;

async function docs(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { markdown: { type: 'boolean' } }, false);
  io.stdout.write(values.markdown ? renderMarkdown() : renderText());
  return 0;
}

async function show(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { 'data-dir': { type: 'string' }, config: { type: 'string' } }, false);
  try {
    const config = loadConfig({ file: values.config, env: io.env, overrides: { dataDir: values['data-dir'] } });
    io.stdout.write(`${JSON.stringify(redactSecrets(config), null, 2)}\n`);
    return 0;
  } catch (err) {
    // A bad configuration is not a usage error: report the problems without the "see --help" hint.
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`cohort config: ${err.message}\n`);
    return 1;
  }
}

// A Map, not an object literal, so 'toString' or '__proto__' is an unknown subcommand rather than a prototype method.
const SUBCOMMANDS = new Map<string, (argv: string[], io: CliIO) => Promise<number>>([
  ['docs', docs], ['show', show], ['export', exportArchive], ['import', importArchive],
]);

export const configCommand: Command = {
  name: 'config',
  summary: 'Document the settings, print the effective configuration, export or import the runtime configuration',
  help: `${USAGE}\n${renderText()}`,
  subcommandHelp: new Map([['export', EXPORT_HELP], ['import', IMPORT_HELP]]),
  run: (argv, io) => runSubcommand(SUBCOMMANDS, argv, io),
};
