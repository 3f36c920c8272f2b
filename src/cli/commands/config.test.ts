import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { CliError, type CliIO } from '../command.js';
import { renderMarkdown, renderText } from '../../config/docs.js';
import { configCommand } from './config.js';

function sink(): Writable & { text(): string } {
  const chunks: string[] = [];
  const w = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return Object.assign(w, { text: () => chunks.join('') });
}
function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = sink();
  const stderr = sink();
  return { stdout, stderr, stdin: new PassThrough(), env } satisfies CliIO;
}

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'cohort-config-cli-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

describe('cohort config', () => {
  it('docs prints the plain-text reference, --markdown the docs page', async () => {
    const a = io();
    assert.equal(await configCommand.run(['docs'], a), 0);
    assert.equal(a.stdout.text(), renderText());
    const b = io();
    assert.equal(await configCommand.run(['docs', '--markdown'], b), 0);
    assert.equal(b.stdout.text(), renderMarkdown());
    assert.ok(configCommand.help.includes('COHORT_HTTP_PORT'), '--help lists the settings');
  });

  it('show prints the effective configuration from --data-dir, --config and the environment', async () => {
    writeFileSync(join(dir, 'cohort.json'), JSON.stringify({ http: { port: 9500 } }));
    const a = io({ COHORT_LOG_LEVEL: 'warn' });
    assert.equal(await configCommand.run(['show', '--data-dir', dir], a), 0);
    const shown = JSON.parse(a.stdout.text());
    assert.equal(shown.dataDir, dir);
    assert.equal(shown.http.port, 9500);
    assert.equal(shown.log.level, 'warn');

    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ node: { index: 12 } }));
    const b = io();
    assert.equal(await configCommand.run(['show', '--data-dir', dir, '--config', other], b), 0);
    assert.equal(JSON.parse(b.stdout.text()).node.index, 12);
    assert.equal(JSON.parse(b.stdout.text()).http.port, 9000, '--config replaces the data directory\'s file');
  });

  it('show reports configuration problems on stderr with exit code 1', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ http: { port: 'abc' } }));
    const a = io();
    assert.equal(await configCommand.run(['show', '--config', bad], a), 1);
    assert.equal(a.stdout.text(), '');
    assert.match(a.stderr.text(), /http\.port in .*bad\.json: must be an integer between 0 and 65535, got "abc"/);
  });

  it('rejects missing or unknown subcommands and unknown flags as usage errors', async () => {
    for (const argv of [[], ['bogus'], ['toString'], ['__proto__'], ['show', '--bogus'], ['docs', 'extra']]) {
      await assert.rejects(configCommand.run(argv, io()), CliError, argv.join(' '));
    }
  });
});
