// `cohort config docs|show`: the configuration schema as documentation, and the effective configuration of a node.
import { parse, runSubcommand, type CliIO, type Command } from '../command.js';
import { renderMarkdown, renderText } from '../../config/docs.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { redactSecrets } from '../../config/redact.js';

const USAGE = `Usage: cohort config <subcommand> [options]

Subcommands:
  docs [--markdown]                      Every setting with its environment variable, type and default
                                         (--markdown: the text of docs/configuration.md).
  show [--data-dir DIR] [--config FILE]  The effective configuration as JSON (defaults, file, COHORT_*
                                         environment), secrets redacted.
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
const SUBCOMMANDS = new Map<string, (argv: string[], io: CliIO) => Promise<number>>([['docs', docs], ['show', show]]);

export const configCommand: Command = {
  name: 'config',
  summary: 'Document the settings, or print the effective configuration',
  help: `${USAGE}\n${renderText()}`,
  run: (argv, io) => runSubcommand(SUBCOMMANDS, argv, io),
};
