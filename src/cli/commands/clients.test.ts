import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openDurableStore, type DurableStore } from '../../store/index.js';
import { TEST_SCRYPT } from '../../store/store.case.test.js';
import { CliError, type CliIO } from '../command.js';
import { main } from '../main.js';
import { createClientsCommand } from './clients.js';
import type { StoreOpener } from './users-store.js';

const root = mkdtempSync(join(tmpdir(), 'cohort-clients-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `data-${++counter}`);

const cheapStore: StoreOpener = (dataDir, { mustExist }) => openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist });
const clients = createClientsCommand({ openStore: cheapStore });

const text = (s: PassThrough) => (s.read() as Buffer | null)?.toString('utf8') ?? '';

/** Runs `cohort clients ...` with PassThrough streams and collects what it printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  const io: CliIO = { stdout, stderr, stdin, env };
  const code = await clients.run(argv, io);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

async function inspect<T>(dataDir: string, body: (store: DurableStore) => Promise<T>): Promise<T> {
  const store = await openDurableStore(dataDir, { scrypt: TEST_SCRYPT, mustExist: true });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

const isCliError = (exitCode: number, mentions: RegExp) => (err: unknown) => {
  assert.ok(err instanceof CliError, String(err));
  assert.equal(err.exitCode, exitCode);
  assert.match(err.message, mentions);
  return true;
};

describe('cohort clients', () => {
  it('adds a confidential client and prints its id and secret once', async () => {
    const dir = freshDir();
    const result = await run(['add', '--redirect-uri', 'https://wiki.example.com/cb', '--name', 'Wiki', '--data-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    const match = /^client_id: +([A-Za-z0-9_-]{22,})\nclient_secret: +([A-Za-z0-9_-]{43})\n$/.exec(result.stdout);
    assert.ok(match, result.stdout);
    const [, clientId, secret] = match;
    assert.match(result.stderr, /shown only once/);
    const record = await inspect(dir, (store) => store.clients.get(clientId!));
    assert.equal(record?.name, 'Wiki');
    assert.equal(record?.public, false);
    assert.equal(record?.secretHash, sha256(secret!));
    assert.deepEqual(record?.grantTypes, ['authorization_code', 'refresh_token', 'client_credentials']);
  });

  it('prints {"client_id", "client_secret"} with --json', async () => {
    const dir = freshDir();
    const result = await run(['add', '--json', '--client-id', 'wiki', '--redirect-uri', 'https://wiki.example.com/cb',
      '--data-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(parsed), ['client_id', 'client_secret']);
    assert.equal(parsed.client_id, 'wiki');
    assert.equal((await inspect(dir, (store) => store.clients.get('wiki')))?.secretHash, sha256(parsed.client_secret!));
  });

  it('adds a public client with every URI option, and no secret', async () => {
    const dir = freshDir();
    const result = await run(['add', '--public', '--json', '--client-id', 'spa',
      '--redirect-uri', 'http://localhost:5173/cb', '--redirect-uri', 'https://spa.example.com/cb',
      '--post-logout-redirect-uri', 'https://spa.example.com/bye', '--post-logout-redirect-uri', 'http://127.0.0.1:5173/',
      '--backchannel-logout-uri', 'https://spa.example.com/bcl', '--data-dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { client_id: 'spa' });
    assert.match(result.stderr, /PKCE/);
    const record = await inspect(dir, (store) => store.clients.get('spa'));
    assert.deepEqual(record, {
      clientId: 'spa', public: true,
      redirectUris: ['http://localhost:5173/cb', 'https://spa.example.com/cb'],
      postLogoutRedirectUris: ['https://spa.example.com/bye', 'http://127.0.0.1:5173/'],
      backchannelLogoutUri: 'https://spa.example.com/bcl',
      grantTypes: ['authorization_code', 'refresh_token'], createdAt: record?.createdAt,
    });
  });

  it('refuses bad input with exit 2 and a taken client_id with exit 1', async () => {
    const dir = freshDir();
    await assert.rejects(run(['add', '--data-dir', dir]), isCliError(2, /--redirect-uri is required/));
    await assert.rejects(run(['add', '--redirect-uri', 'http://wiki.example.com/cb', '--data-dir', dir]),
      isCliError(2, /^redirectUris: 'http:\/\/wiki\.example\.com\/cb' must be an absolute https URL/));
    await assert.rejects(run(['add', '--redirect-uri', 'https://a.example/cb#x', '--data-dir', dir]), isCliError(2, /redirectUris/));
    await assert.rejects(run(['add', '--redirect-uri', 'https://a.example/cb', '--post-logout-redirect-uri', 'nope',
      '--data-dir', dir]), isCliError(2, /postLogoutRedirectUris/));
    await assert.rejects(run(['add', '--redirect-uri', 'https://a.example/cb', '--client-id', 'a b', '--data-dir', dir]),
      isCliError(2, /clientId/));
    await assert.rejects(run(['add', 'stray', '--redirect-uri', 'https://a.example/cb', '--data-dir', dir]),
      isCliError(2, /unexpected argument 'stray'/));
    await assert.rejects(run(['add', '--secret', 'x', '--data-dir', dir]), isCliError(2, /--secret/));
    assert.equal((await run(['add', '--client-id', 'app', '--redirect-uri', 'https://a.example/cb', '--data-dir', dir])).code, 0);
    const taken = await run(['add', '--client-id', 'app', '--redirect-uri', 'https://b.example/cb', '--data-dir', dir]);
    assert.equal(taken.code, 1);
    assert.equal(taken.stdout, '');
    assert.match(taken.stderr, /^cohort clients: client 'app' already exists\n$/);
    assert.deepEqual((await inspect(dir, (store) => store.clients.list())).map((c) => c.clientId), ['app']);
  });

  it('lists clients as a table and as JSON, never with secrets or their hashes', async () => {
    const dir = freshDir();
    const added = await run(['add', '--json', '--client-id', 'wiki', '--name', 'Wiki', '--redirect-uri',
      'https://wiki.example.com/cb', '--data-dir', dir]);
    const { client_secret: secret } = JSON.parse(added.stdout) as { client_secret: string };
    await run(['add', '--public', '--client-id', 'spa', '--redirect-uri', 'http://localhost/cb', '--data-dir', dir]);
    const table = await run(['list', '--data-dir', dir]);
    assert.equal(table.code, 0);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CLIENT_ID\s+NAME\s+TYPE\s+GRANT TYPES\s+REDIRECT URIS$/);
    assert.match(lines[1]!, /^wiki\s+Wiki\s+confidential\s+authorization_code,refresh_token,client_credentials\s+https:\/\/wiki\.example\.com\/cb$/);
    assert.match(lines[2]!, /^spa\s+public\s+authorization_code,refresh_token\s+http:\/\/localhost\/cb$/);
    const json = await run(['list', '--json', '--data-dir', dir]);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(parsed.map((c) => [c.client_id, c.client_name, c.public]), [['wiki', 'Wiki', false], ['spa', undefined, true]]);
    assert.deepEqual(parsed[0]!.redirect_uris, ['https://wiki.example.com/cb']);
    for (const output of [table.stdout, json.stdout]) {
      assert.ok(!output.includes(secret), 'secret printed');
      assert.ok(!output.includes(sha256(secret)), 'secret hash printed');
      assert.ok(!/secret/i.test(output), output);
    }
  });

  it('removes clients, and reports unknown ones and a missing database', async () => {
    const dir = freshDir();
    const missing = await run(['list', '--data-dir', dir]);
    assert.equal(missing.code, 1);
    assert.ok(missing.stderr.includes(`no Cohort database in ${dir}`), missing.stderr);
    assert.equal(existsSync(dir), false);
    await run(['add', '--client-id', 'gone', '--redirect-uri', 'https://a.example/cb', '--data-dir', dir]);
    assert.deepEqual(await run(['remove', 'gone', '--data-dir', dir]), { code: 0, stdout: 'Client gone removed.\n', stderr: '' });
    assert.equal(await inspect(dir, (store) => store.clients.get('gone')), undefined);
    const again = await run(['remove', 'gone', '--data-dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /client 'gone' not found/);
    await assert.rejects(run(['remove', '--data-dir', dir]), isCliError(2, /missing CLIENT_ID/));
    assert.deepEqual((await run(['list', '--data-dir', dir])).stdout, 'No clients.\n');
  });

  it('uses COHORT_DATA_DIR when --data-dir is not given', async () => {
    const dir = freshDir();
    const result = await run(['add', '--client-id', 'env', '--redirect-uri', 'https://a.example/cb'], { COHORT_DATA_DIR: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await inspect(dir, (store) => store.clients.get('env')));
  });

  it('prints help for --help on any subcommand', async () => {
    for (const argv of [['--help'], ['add', '--help'], ['list', '-h'], ['remove', 'x', '--help']]) {
      const result = await run(argv);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Usage: cohort clients <subcommand>/);
      for (const flag of ['--redirect-uri URI', '--public', '--post-logout-redirect-uri URI', '--backchannel-logout-uri URI',
        '--client-id ID', '--json', '--name N', 'list', 'remove CLIENT_ID', '--data-dir DIR']) {
        assert.ok(result.stdout.includes(flag), flag);
      }
    }
    await assert.rejects(run([]), isCliError(2, /missing subcommand/));
    await assert.rejects(run(['toString']), isCliError(2, /unknown subcommand 'toString'/));
  });

  it('is registered with the CLI', async () => {
    const dir = freshDir();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    stdin.end();
    const io = { stdout, stderr, stdin, env: {} };
    assert.equal(await main(['clients', 'add', '--client-id', 'main', '--redirect-uri', 'https://a.example/cb', '--json',
      '--data-dir', dir], io), 0, text(stderr));
    assert.equal((JSON.parse(text(stdout)) as { client_id: string }).client_id, 'main');
    assert.equal(await main(['clients', 'add', '--redirect-uri', 'ftp://a.example/', '--data-dir', dir], io), 2);
    const message = text(stderr);
    assert.match(message, /cohort clients: redirectUris: /);
    assert.ok(!/\n\s+at /.test(message), 'no stack trace');
  });
});
