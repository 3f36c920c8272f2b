// `cohort users add|list|passwd|disable|enable|remove`: accounts in the embedded user store.
// Passwords come from standard input (never from a flag, which would land in shell history and `ps`), or are
// generated and printed once. Nothing here ever prints a password hash: the store does not hand them out.
import { generatePassword as defaultGeneratePassword } from '../../store/bootstrap.js';
import type { DurableStore, User } from '../../store/index.js';
import { CliError, parse, readStdin, resolveDataDir, type CliIO, type Command, commandOfSubcommands } from '../command.js';
import { formatTable, isoTime, openCliStore, splitList, withStore, type StoreOpener } from './users-store.js';

const HELP = `Usage: cohort users <subcommand> [options]

Manage the accounts in the embedded user store (<data dir>/cohort.db). A running server sees changes at once.

Subcommands:
  add NAME [options]       Create a user. NAME: 1-64 letters, digits and . _ @ - (case-insensitive).
      --password-stdin     Read the password from standard input. Without it, a strong password is
                           generated and printed once, and must be changed at first sign-in.
      --email E            Email address.
      --display-name N     Name shown to people.
      --groups a,b         Comma-separated groups.
      --roles r1,r2        Comma-separated roles (for example: admin).
  list [--json]            List users (--json: a JSON array).
  passwd NAME              Set a new password: from standard input with --password-stdin, else generated
      [--password-stdin]   and printed once, to be changed at next sign-in.
  disable NAME             Refuse sign-in for the user; everything else is kept.
  enable NAME              Allow sign-in again.
  remove NAME              Delete the user.

Options of every subcommand:
  --data-dir DIR           Data directory (default: $COHORT_DATA_DIR, else ./cohort-data).
  -h, --help               Show this help.

Examples:
  printf '%s' "$PASSWORD" | cohort users add alice --password-stdin --email alice@example.com
  cohort users add bob --roles admin --groups staff,ops
  cohort users list --json

Exit status: 0 on success, 1 when the operation failed (no such user, name taken, database unavailable),
2 for invalid usage or input.
`;

export interface UsersCommandDeps {
  /** @default openCliStore (the data directory's cohort.db, scrypt parameters from scryptParamsFor) */
  openStore?: StoreOpener;
  /** @default the generator the first-admin bootstrap uses (20 characters, ~115 bits) */
  generatePassword?: () => string;
}

type Handler = (argv: string[], io: CliIO) => Promise<number>;

const DATA_DIR = { 'data-dir': { type: 'string' } } as const;

function onlyName(positionals: string[], sub: string): string {
  if (positionals.length === 0) throw new CliError(`${sub}: missing user name`);
  if (positionals.length > 1) throw new CliError(`${sub}: unexpected argument '${positionals[1]}'`);
  return positionals[0]!;
}

/** The password from stdin, or a generated one (then `generated` is true and the user must change it). */
async function choosePassword(fromStdin: boolean | undefined, io: CliIO, generate: () => string) {
  if (!fromStdin) return { password: generate(), generated: true };
  const password = await readStdin(io.stdin);
  if (password === '') throw new CliError('the password read from standard input is empty');
  return { password, generated: false };
}

function printGenerated(io: CliIO, username: string, password: string): void {
  io.stdout.write(`Generated password for ${username} (shown only once; it must be changed at first sign-in):\n` +
    `${password}\n`);
}

function userJson(user: User) {
  return { ...user, createdAt: isoTime(user.createdAt), updatedAt: isoTime(user.updatedAt) };
}

function userTable(users: User[]): string {
  return formatTable(['USERNAME', 'EMAIL', 'DISPLAY NAME', 'GROUPS', 'ROLES', 'STATUS'], users.map((u) => [
    u.username, u.email ?? '', u.displayName ?? '', u.groups.join(','), u.roles.join(','),
    (u.disabled ? 'disabled' : 'enabled') + (u.mustChangePassword ? ', must change password' : ''),
  ]));
}

export function createUsersCommand(deps: UsersCommandDeps = {}): Command {
  const open = deps.openStore ?? openCliStore;
  const generate = deps.generatePassword ?? defaultGeneratePassword;

  /** Runs one subcommand against the store of --data-dir; existing data only unless `create` is set. */
  const inStore = (io: CliIO, dataDir: string | undefined, create: boolean, body: (s: DurableStore) => Promise<number>) =>
    withStore(io, 'users', open, resolveDataDir(dataDir, io.env), { mustExist: !create }, body);

  const add: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, {
      ...DATA_DIR, 'password-stdin': { type: 'boolean' }, email: { type: 'string' },
      'display-name': { type: 'string' }, groups: { type: 'string' }, roles: { type: 'string' },
    });
    const username = onlyName(positionals, 'add');
    const { password, generated } = await choosePassword(values['password-stdin'], io, generate);
    return inStore(io, values['data-dir'], true, async (store) => {
      const user = await store.users.create({
        username, password, email: values.email, displayName: values['display-name'],
        groups: splitList(values.groups), roles: splitList(values.roles), mustChangePassword: generated,
      });
      io.stdout.write(`Created user ${user.username} (id ${user.id}).\n`);
      if (generated) printGenerated(io, user.username, password);
      return 0;
    });
  };

  const list: Handler = async (argv, io) => {
    const { values } = parse(argv, { ...DATA_DIR, json: { type: 'boolean' } }, false);
    return inStore(io, values['data-dir'], false, async (store) => {
      const users = await store.users.list();
      if (values.json) io.stdout.write(`${JSON.stringify(users.map(userJson), null, 2)}\n`);
      else io.stdout.write(users.length === 0 ? 'No users.\n' : userTable(users));
      return 0;
    });
  };

  const passwd: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, { ...DATA_DIR, 'password-stdin': { type: 'boolean' } });
    const username = onlyName(positionals, 'passwd');
    const { password, generated } = await choosePassword(values['password-stdin'], io, generate);
    return inStore(io, values['data-dir'], false, async (store) => {
      await store.users.setPassword(username, password, { mustChange: generated });
      io.stdout.write(`Password of ${username} changed.\n`);
      if (generated) printGenerated(io, username, password);
      return 0;
    });
  };

  const setDisabled = (disabled: boolean): Handler => async (argv, io) => {
    const { values, positionals } = parse(argv, DATA_DIR);
    const username = onlyName(positionals, disabled ? 'disable' : 'enable');
    return inStore(io, values['data-dir'], false, async (store) => {
      await store.users.setDisabled(username, disabled);
      io.stdout.write(`User ${username} ${disabled ? 'disabled' : 'enabled'}.\n`);
      return 0;
    });
  };

  const remove: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, DATA_DIR);
    const username = onlyName(positionals, 'remove');
    return inStore(io, values['data-dir'], false, async (store) => {
      await store.users.remove(username);
      io.stdout.write(`User ${username} removed.\n`);
      return 0;
    });
  };

  const subcommands = new Map<string, Handler>([
    ['add', add], ['list', list], ['passwd', passwd], ['disable', setDisabled(true)], ['enable', setDisabled(false)],
    ['remove', remove],
  ]);

  return commandOfSubcommands({ name: 'users', summary: 'Add, list, disable, enable and remove users; set passwords', help: HELP, subcommands });
}

export const usersCommand = createUsersCommand();
