// Entry point of the `cohort` command: dispatches to one module per command in ./commands.
import type { CliIO, Command } from './command.js';
import { CliError } from './command.js';
import { commands } from './commands/index.js';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: cohort <command> [options]\n\nCohort: a clustered OpenID Connect / OAuth 2 provider and SAML 2.0 identity provider.\n\nCommands:\n${lines.join('\n')}\n\nRun 'cohort <command> --help' for a command's options.\n`;
}

export async function main(argv: string[], io: CliIO = {
  stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env,
}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../version.js');
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`cohort: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const help = command.subcommandHelp?.get(rest[0] ?? '') ?? command.help;
    io.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`cohort ${name}: ${err.message}\nRun 'cohort ${name} --help' for usage.\n`);
      return err.exitCode;
    }
    throw err;
  }
}
