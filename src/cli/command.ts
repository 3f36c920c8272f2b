// A CLI command: its name, a one-line summary for `cohort --help`, full help text, and run().
// run() returns the process exit code; it throws CliError for bad usage (printed without a stack trace).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  help: string;
  /** Help of individual subcommands, shown for `cohort <command> <subcommand> --help` instead of `help`. */
  subcommandHelp?: ReadonlyMap<string, string>;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Streams injected so commands are testable without a child process. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_DATA_DIR = './cohort-data';

/** --data-dir, else COHORT_DATA_DIR, else ./cohort-data. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.COHORT_DATA_DIR ?? DEFAULT_DATA_DIR;
}

/** parseArgs with strict checking; unknown flags become a CliError naming the flag. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Reads all of stdin (for --password-stdin); strips one trailing newline. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export type SubcommandHandler = (argv: string[], io: CliIO) => Promise<number>;

/**
 * Runs the subcommand named by argv[0]. `subcommands` is a Map so that 'constructor' or '__proto__' is an unknown
 * subcommand, not an inherited property.
 */
/** A command made of subcommands: `--help` anywhere prints its help, anything else goes to the subcommand. */
export function commandOfSubcommands(spec: {
  name: string; summary: string; help: string; subcommands: Map<string, SubcommandHandler>;
}): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(argv, io) {
      if (wantsHelp(argv)) {
        io.stdout.write(spec.help);
        return 0;
      }
      return runSubcommand(spec.subcommands, argv, io);
    },
  };
}

export async function runSubcommand(subcommands: Map<string, SubcommandHandler>, argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  const handler = sub === undefined ? undefined : subcommands.get(sub);
  if (!handler) {
    throw new CliError(sub === undefined
      ? `missing subcommand (${[...subcommands.keys()].join(', ')})`
      : `unknown subcommand '${sub}'`);
  }
  return handler(rest, io);
}
