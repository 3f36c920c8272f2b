import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { openDurableStore, type DurableStore } from '../../store/index.js';
import { TEST_SCRYPT } from '../../store/store.case.test.js';
import { CliError, type CliIO } from '../command.js';
import { main } from '../main.js';
import { createUsersCommand } from './users.js';
import type { StoreOpener } from './users-store.js';

const root = mkdtempSync(join(tmpdir(), 'cohort-users-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `data-${++counter}`);

const cheapStore: StoreOpener = (dataDir, { mustExist }) => openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist });
const users = createUsersCommand({ openStore: cheapStore });

/** Runs `cohort users ...` with PassThrough streams; stdin carries `input` (empty if not given). */
async function run(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const io: CliIO = { stdout, stderr, stdin, env: options.env ?? {} };
  const code = await users.run(argv, io);
  const text = (s: PassThrough) => (s.read() as Buffer | null)?.toString('utf8') ?? '';
  const result = { code, stdout: text(stdout), stderr: text(stderr) };
  assert.ok(!(result.stdout + result.stderr).includes('$scrypt$'), 'a password hash was printed');
  return result;
}

async function inspect<T>(dataDir: string, body: (store: DurableStore) => Promise<T>): Promise<T> {
  const store = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist: true });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** The password printed on the line after "Generated password for ...". */
function generatedPassword(stdout: string): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('Generated password for '));
  assert.ok(at >= 0, stdout);
  return lines[at + 1]!;
}

const isCliError = (exitCode: number, mentions: RegExp) => (err: unknown) => {
  assert.ok(err instanceof CliError, String(err));
  assert.equal(err.exitCode, exitCode);
  assert.match(err.message, mentions);
  return true;
};

describe('cohort users', () => {
  it('adds a user with a password from stdin and the given attributes', async () => {
    const dir = freshDir();
    const result = await run(['add', 'Alice', '--password-stdin', '--email', 'alice@example.com',
      '--display-name', 'Alice Liddell', '--groups', 'staff, wonderland', '--roles', 'admin', '--data-dir', dir],
    { input: 'through the looking glass\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Created user Alice \(id [0-9a-f-]{36}\)\.\n$/);
    await inspect(dir, async (store) => {
      const user = await store.users.verifyPassword('alice', 'through the looking glass');
      assert.ok(user, 'the password from stdin, without its trailing newline, verifies');
      assert.equal(user.email, 'alice@example.com');
      assert.equal(user.displayName, 'Alice Liddell');
      assert.deepEqual(user.groups, ['staff', 'wonderland']);
      assert.deepEqual(user.roles, ['admin']);
      assert.equal(user.mustChangePassword, false);
    });
  });

  it('generates a strong password, prints it once, and requires a change at first sign-in', async () => {
    const dir = freshDir();
    const result = await run(['add', 'bob', '--data-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    const password = generatedPassword(result.stdout);
    assert.match(password, /^[A-Za-z0-9]{20}$/);
    await inspect(dir, async (store) => {
      const user = await store.users.verifyPassword('bob', password);
      assert.equal(user?.mustChangePassword, true);
    });
    const other = generatedPassword((await run(['add', 'bob2', '--data-dir', dir])).stdout);
    assert.notEqual(other, password);
  });

  it('uses COHORT_DATA_DIR when --data-dir is not given', async () => {
    const dir = freshDir();
    assert.equal((await run(['add', 'carol', '--password-stdin'], { input: 'pw', env: { COHORT_DATA_DIR: dir } })).code, 0);
    assert.ok(await inspect(dir, (store) => store.users.getByUsername('carol')));
  });

  it('reports a taken name as a failure (exit 1) and invalid input as usage (exit 2)', async () => {
    const dir = freshDir();
    await run(['add', 'dave', '--password-stdin', '--data-dir', dir], { input: 'pw' });
    const taken = await run(['add', 'DAVE', '--password-stdin', '--data-dir', dir], { input: 'pw' });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^cohort users: user 'DAVE' already exists\n$/);
    await assert.rejects(run(['add', 'bad name', '--password-stdin', '--data-dir', dir], { input: 'pw' }),
      isCliError(2, /^username: /));
    await assert.rejects(run(['add', 'erin', '--email', 'nope', '--data-dir', dir]), isCliError(2, /^email: /));
    await assert.rejects(run(['add', 'erin', '--password-stdin', '--data-dir', dir], { input: '\n' }),
      isCliError(2, /standard input is empty/));
    await assert.rejects(run(['add', 'erin', '--password-stdin', '--data-dir', dir], { input: 'x'.repeat(1025) }),
      isCliError(2, /password: must be at most 1024 bytes/));
    await assert.rejects(run(['add', '--data-dir', dir]), isCliError(2, /missing user name/));
    await assert.rejects(run(['add', 'a', 'b', '--data-dir', dir]), isCliError(2, /unexpected argument 'b'/));
    await assert.rejects(run(['add', 'erin', '--password', 'x', '--data-dir', dir]), isCliError(2, /--password/));
    await assert.rejects(run(['frobnicate']), isCliError(2, /unknown subcommand 'frobnicate'/));
    await assert.rejects(run([]), isCliError(2, /missing subcommand/));
    assert.deepEqual((await inspect(dir, (store) => store.users.list())).map((u) => u.username), ['dave']);
  });

  it('lists users as a table and as JSON, without hashes', async () => {
    const dir = freshDir();
    assert.equal((await run(['list', '--data-dir', dir])).code, 1, 'no database yet');
    await run(['add', 'zed', '--password-stdin', '--roles', 'admin', '--data-dir', dir], { input: 'pw' });
    await run(['add', 'amy', '--password-stdin', '--email', 'amy@example.com', '--data-dir', dir], { input: 'pw' });
    await run(['disable', 'zed', '--data-dir', dir]);
    const table = await run(['list', '--data-dir', dir]);
    assert.equal(table.code, 0);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^USERNAME\s+EMAIL\s+DISPLAY NAME\s+GROUPS\s+ROLES\s+STATUS$/);
    assert.match(lines[1]!, /^amy\s+amy@example\.com\s+enabled$/);
    assert.match(lines[2]!, /^zed\s+admin\s+disabled$/);
    const json = await run(['list', '--json', '--data-dir', dir]);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(parsed.map((u) => [u.username, u.disabled, u.roles]), [['amy', false, []], ['zed', true, ['admin']]]);
    assert.deepEqual(Object.keys(parsed[0]!).sort(),
      ['createdAt', 'disabled', 'email', 'groups', 'id', 'mustChangePassword', 'roles', 'updatedAt', 'username']);
    assert.match(String(parsed[0]!.createdAt), /^\d{4}-\d\d-\d\dT/);
    await assert.rejects(run(['list', 'extra', '--data-dir', dir]), isCliError(2, /extra/));
  });

  it('says where it looked when the data directory holds no database, and creates nothing', async () => {
    const dir = freshDir();
    for (const argv of [['list'], ['passwd', 'x', '--password-stdin'], ['disable', 'x'], ['enable', 'x'], ['remove', 'x']]) {
      const result = await run([...argv, '--data-dir', dir], { input: 'pw' });
      assert.equal(result.code, 1, argv.join(' '));
      assert.ok(result.stderr.includes(`no Cohort database in ${dir}`), result.stderr);
      assert.match(result.stderr, /--data-dir or set COHORT_DATA_DIR/);
    }
    assert.equal(existsSync(dir), false);
  });

  it('sets passwords from stdin or generated', async () => {
    const dir = freshDir();
    await run(['add', 'frank', '--password-stdin', '--data-dir', dir], { input: 'first' });
    const fromStdin = await run(['passwd', 'Frank', '--password-stdin', '--data-dir', dir], { input: 'second\r\n' });
    assert.equal(fromStdin.code, 0);
    assert.equal(fromStdin.stdout, 'Password of Frank changed.\n');
    await inspect(dir, async (store) => {
      assert.equal(await store.users.verifyPassword('frank', 'first'), undefined);
      assert.equal((await store.users.verifyPassword('frank', 'second'))?.mustChangePassword, false);
    });
    const generated = await run(['passwd', 'frank', '--data-dir', dir]);
    assert.equal(generated.code, 0);
    const password = generatedPassword(generated.stdout);
    await inspect(dir, async (store) => {
      assert.equal(await store.users.verifyPassword('frank', 'second'), undefined);
      assert.equal((await store.users.verifyPassword('frank', password))?.mustChangePassword, true);
    });
    const unknown = await run(['passwd', 'nobody', '--password-stdin', '--data-dir', dir], { input: 'pw' });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /user 'nobody' not found/);
  });

  it('disables, enables and removes users', async () => {
    const dir = freshDir();
    await run(['add', 'gina', '--password-stdin', '--data-dir', dir], { input: 'pw' });
    assert.deepEqual(await run(['disable', 'gina', '--data-dir', dir]), { code: 0, stdout: 'User gina disabled.\n', stderr: '' });
    assert.equal(await inspect(dir, (store) => store.users.verifyPassword('gina', 'pw')), undefined);
    assert.equal((await run(['enable', 'GINA', '--data-dir', dir])).code, 0);
    assert.ok(await inspect(dir, (store) => store.users.verifyPassword('gina', 'pw')));
    assert.deepEqual(await run(['remove', 'gina', '--data-dir', dir]), { code: 0, stdout: 'User gina removed.\n', stderr: '' });
    assert.equal(await inspect(dir, (store) => store.users.getByUsername('gina')), undefined);
    for (const sub of ['disable', 'enable', 'remove']) {
      const result = await run([sub, 'gina', '--data-dir', dir]);
      assert.equal(result.code, 1, sub);
      assert.match(result.stderr, /^cohort users: user 'gina' not found\n$/);
    }
  });

  it('prints help for --help on any subcommand', async () => {
    for (const argv of [['--help'], ['-h'], ['add', '--help'], ['list', '-h'], ['passwd', 'x', '--help']]) {
      const result = await run(argv);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Usage: cohort users <subcommand>/);
      for (const sub of ['add NAME', 'list', 'passwd NAME', 'disable NAME', 'enable NAME', 'remove NAME', '--data-dir DIR']) {
        assert.ok(result.stdout.includes(sub), sub);
      }
    }
  });

  it('is registered with the CLI and hashes with the default scrypt parameters', async () => {
    const dir = freshDir();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    stdin.end('registered-pw\n');
    const code = await main(['users', 'add', 'henry', '--password-stdin', '--data-dir', dir], { stdout, stderr, stdin, env: {} });
    assert.equal(code, 0, String(stderr.read()));
    const db = new Database(join(dir, 'cohort.db'), { readonly: true });
    try {
      assert.match(db.prepare('SELECT password_hash FROM users').pluck().get() as string, /^\$scrypt\$ln=15,r=8,p=1\$/);
    } finally {
      db.close();
    }
    const bad = await main(['users', 'add', 'no good', '--data-dir', dir], { stdout, stderr, stdin, env: {} });
    assert.equal(bad, 2);
    const message = String(stderr.read());
    assert.match(message, /^cohort users: username: must be 1 to 64 letters/);
    assert.ok(!/\n\s+at /.test(message), 'no stack trace');
  });
});
