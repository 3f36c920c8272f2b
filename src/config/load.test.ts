import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { issuerOf, loadConfig } from './load.js';
import { buildDefaults, knobAt } from './schema.js';
import { checkValue, parseText } from './validate.js';

let root: string;
let n = 0;
/** A fresh, empty data directory, so no cohort.json of the working directory leaks into a test. */
function freshDir(): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return dir;
}
function writeJson(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

before(() => { root = mkdtempSync(join(tmpdir(), 'cohort-config-')); });
after(() => rmSync(root, { recursive: true, force: true }));

describe('loadConfig: sources and precedence', () => {
  it('returns the defaults when no source sets anything', () => {
    const dataDir = freshDir();
    const config = loadConfig({ env: {}, overrides: { dataDir } });
    assert.deepEqual(config, { ...buildDefaults(), dataDir });
    assert.equal(config.http.port, 9000);
    assert.equal(config.state.backend.tokens, 'auto');
  });

  it('reads an explicit JSON file, nested by section', () => {
    const dir = freshDir();
    const file = writeJson(dir, 'x.json', { http: { port: 9100, trustProxy: true }, auth: { lockout: { windowSeconds: 60 } } });
    const config = loadConfig({ file, env: {}, overrides: { dataDir: dir } });
    assert.equal(config.http.port, 9100);
    assert.equal(config.http.trustProxy, true);
    assert.equal(config.auth.lockout.windowSeconds, 60);
    assert.equal(config.http.host, '127.0.0.1', 'keys absent from the file keep their defaults');
  });

  it('reads <dataDir>/cohort.json when no file is given, dataDir coming from overrides or env', () => {
    const dir = freshDir();
    writeJson(dir, 'cohort.json', { node: { index: 7 } });
    assert.equal(loadConfig({ env: {}, overrides: { dataDir: dir } }).node.index, 7);
    assert.equal(loadConfig({ env: { COHORT_DATA_DIR: dir } }).node.index, 7);
    // Overrides beat env when locating the file too.
    assert.equal(loadConfig({ env: { COHORT_DATA_DIR: dir }, overrides: { dataDir: freshDir() } }).node.index, 0);
  });

  it('applies defaults < file < environment < overrides', () => {
    const dir = freshDir();
    const file = writeJson(dir, 'c.json', { http: { port: 1001 }, log: { level: 'debug' } });
    const env = { COHORT_HTTP_PORT: '1002', COHORT_NODE_NAME: 'from-env' };
    const overrides = { dataDir: dir, 'http.port': '1003' };
    const all = loadConfig({ file, env, overrides });
    assert.equal(all.http.port, 1003);
    assert.equal(all.log.level, 'debug');
    assert.equal(all.node.name, 'from-env');
    assert.equal(loadConfig({ file, env, overrides: { dataDir: dir } }).http.port, 1002);
    assert.equal(loadConfig({ file, env: {}, overrides: { dataDir: dir } }).http.port, 1001);
  });

  it('parses text from env and flags, and takes typed override values as they are', () => {
    const dataDir = freshDir();
    const config = loadConfig({
      env: { COHORT_HTTP_TRUST_PROXY: 'TRUE', COHORT_STATE_LOCAL_MAX_SESSIONS: ' 42 ', COHORT_HTTP_ISSUER: '' },
      overrides: { dataDir, 'node.index': 3, 'http.port': '0', 'log.level': undefined },
    });
    assert.equal(config.http.trustProxy, true);
    assert.equal(config.state.local.maxSessions, 42);
    assert.equal(config.http.issuer, '');
    assert.equal(config.node.index, 3);
    assert.equal(config.http.port, 0);
    assert.equal(config.log.level, 'info', 'an undefined override (unset flag) is ignored');
    assert.equal(loadConfig({ env: { COHORT_HTTP_TRUST_PROXY: '0' }, overrides: { dataDir } }).http.trustProxy, false);
  });

  it('returns a deep-frozen object', () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: freshDir() } });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.auth.scrypt));
    assert.ok(Object.isFrozen(config.state.backend));
    assert.throws(() => { (config.http as { port: number }).port = 1; }, TypeError);
  });
});

describe('loadConfig: errors name the key, the source and the reason', () => {
  it('wrong type in the file', () => {
    const dir = freshDir();
    const file = writeJson(dir, 'cohort.json', { http: { port: 'abc' } });
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.message, `http.port in ${file}: must be an integer between 0 and 65535, got "abc"`);
    assert.deepEqual(err.problems, [{ path: 'http.port', source: file, reason: 'must be an integer between 0 and 65535, got "abc"' }]);
  });

  it('an https issuer without a trusted proxy, and the peer backend on a standalone node', () => {
    const err = configError(() => loadConfig({ env: {
      COHORT_HTTP_ISSUER: 'https://sso.example.org', COHORT_STATE_BACKEND_SESSIONS: 'peer',
    } }));
    assert.deepEqual(err.problems.map((p) => p.path).sort(), ['http.trustProxy', 'state.backend.sessions']);
    assert.match(err.message, /http\.trustProxy .*must be true when http\.issuer is https:/);
    assert.match(err.message, /state\.backend\.sessions .*needs node\.role engine or console/);
    const ok = loadConfig({ env: { COHORT_HTTP_ISSUER: 'https://sso.example.org', COHORT_HTTP_TRUST_PROXY: 'true' } });
    assert.equal(ok.http.trustProxy, true);
  });

  it('out-of-range, fractional and non-power-of-two integers', () => {
    const file = writeJson(freshDir(), 'c.json', {
      http: { port: 70000, maxBodyBytes: 2048.5 }, auth: { scrypt: { cost: 3000 } },
    });
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.deepEqual(err.problems.map((p) => p.path), ['http.port', 'http.maxBodyBytes', 'auth.scrypt.cost']);
    assert.match(err.message, /http\.port in .*: must be an integer between 0 and 65535, got 70000/);
    assert.match(err.message, /http\.maxBodyBytes in .*got 2048\.5/);
    assert.match(err.message, /auth\.scrypt\.cost in .*: must be a power of two between 1024 and 1048576, got 3000/);
  });

  it('bad enum values and unparsable environment values', () => {
    const err = configError(() => loadConfig({
      env: {
        COHORT_NODE_ROLE: 'master', COHORT_HTTP_PORT: '90x0', COHORT_NODE_INDEX: '',
        COHORT_HTTP_TRUST_PROXY: 'yes', COHORT_STATE_BACKEND_TOKENS: 'memcached',
      },
      overrides: { dataDir: freshDir() },
    }));
    const lines = err.message.split('\n').slice(1).map((l) => l.trim());
    assert.deepEqual(lines.sort(), [
      'http.port in COHORT_HTTP_PORT: must be an integer between 0 and 65535, got "90x0"',
      'http.trustProxy in COHORT_HTTP_TRUST_PROXY: must be true or false (or 1 or 0), got "yes"',
      'node.index in COHORT_NODE_INDEX: must be an integer between 0 and 65535, got ""',
      'node.role in COHORT_NODE_ROLE: must be one of standalone, engine, console, got "master"',
      'state.backend.tokens in COHORT_STATE_BACKEND_TOKENS: must be one of auto, local, peer, redis, got "memcached"',
    ]);
    assert.match(err.message, /^5 configuration problems:/);
  });

  it('rejects hex, exponent and unsafe integers from text', () => {
    for (const text of ['0x10', '1e3', '9007199254740993', '1.0']) {
      const err = configError(() => loadConfig({ env: { COHORT_HTTP_PORT: text }, overrides: { dataDir: freshDir() } }));
      assert.equal(err.problems[0]!.path, 'http.port', text);
    }
  });

  it('unknown keys in the file, at any depth, with a suggestion for near misses', () => {
    const file = writeJson(freshDir(), 'c.json', { http: { prot: 1 }, colour: 'blue', state: { backend: { session: 'local' } } });
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.deepEqual(err.problems.map((p) => [p.path, p.reason]), [
      ['http.prot', 'unknown key (did you mean http.port?)'],
      ['colour', 'unknown key'],
      ['state.backend.session', 'unknown key (did you mean state.backend.sessions?)'],
    ]);
  });

  it('a section that is not an object, and a leaf given an object', () => {
    const file = writeJson(freshDir(), 'c.json', { http: 5, node: { name: { first: 'a' } } });
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.deepEqual(err.problems.map((p) => p.path), ['http', 'node.name']);
    assert.match(err.problems[0]!.reason, /must be an object/);
  });

  it('unknown and mistyped overrides name the command line', () => {
    const err = configError(() => loadConfig({ env: {}, overrides: { dataDir: freshDir(), 'http.hots': 'x', 'http.host': 7 } }));
    assert.deepEqual(err.problems.map((p) => `${p.path} in ${p.source}`), ['http.hots in command line', 'http.host in command line']);
    assert.match(err.problems[0]!.reason, /did you mean http\.host\?/);
  });

  it('a given file that is missing, not JSON, or not an object', () => {
    const dir = freshDir();
    const missing = join(dir, 'nope.json');
    const e1 = configError(() => loadConfig({ file: missing, env: {} }));
    assert.equal(e1.message, `${missing}: cannot read the configuration file (ENOENT)`);
    assert.ok(e1.cause instanceof Error);
    const bad = writeJson(dir, 'bad.json', '{ "http": { "port": 1, } }');
    assert.match(configError(() => loadConfig({ file: bad, env: {} })).message, new RegExp(`^${bad}: not valid JSON`));
    const arr = writeJson(dir, 'arr.json', [1]);
    assert.equal(configError(() => loadConfig({ file: arr, env: {} })).message, `${arr}: must contain a JSON object`);
  });

  it('string rules: empty required strings and malformed issuers, listed in precedence order', () => {
    const file = writeJson(freshDir(), 'c.json', { node: { name: '' }, http: { issuer: 'https://id.example.com/' } });
    const err = configError(() => loadConfig({ file, env: { COHORT_HTTP_ISSUER: 'ftp://x' } }));
    assert.deepEqual(err.problems.map((p) => `${p.path} in ${p.source}: ${p.reason}`), [
      `node.name in ${file}: must be a non-empty string of at most 255 characters, got ""`,
      `http.issuer in ${file}: must not end with '/', got "https://id.example.com/"`,
      'http.issuer in COHORT_HTTP_ISSUER: must use http: or https:, got "ftp://x"',
    ], 'problems are listed file first, then environment');
  });

  it('collects problems from every source into one error', () => {
    const dir = freshDir();
    writeJson(dir, 'cohort.json', { http: { port: -1 }, log: { level: 'loud' } });
    const err = configError(() => loadConfig({ env: { COHORT_SESSION_TTL_SECONDS: '5' }, overrides: { dataDir: dir, 'node.index': '65536' } }));
    assert.deepEqual(err.problems.map((p) => p.path).sort(), ['http.port', 'log.level', 'node.index', 'session.ttlSeconds']);
    for (const p of err.problems) assert.ok(err.message.includes(`${p.path} in ${p.source}: ${p.reason}`));
  });

  it('checks scrypt memory across knobs, blaming maxMemoryMb', () => {
    const dataDir = freshDir();
    const err = configError(() => loadConfig({ env: { COHORT_AUTH_SCRYPT_COST: '65536' }, overrides: { dataDir } }));
    assert.equal(err.message,
      'auth.scrypt.maxMemoryMb in defaults: must be at least 65 to hash with cost 65536, blockSize 8 and parallelization 1, got 64');
    const ok = loadConfig({ env: { COHORT_AUTH_SCRYPT_COST: '65536', COHORT_AUTH_SCRYPT_MAX_MEMORY_MB: '65' }, overrides: { dataDir } });
    assert.equal(ok.auth.scrypt.maxMemoryMb, 65);
  });
});

describe('validators', () => {
  it('never echo the value of a secret knob', () => {
    const secret = { ...knobAt('http.host')!, secret: true };
    const typed = checkValue(secret, 12345);
    assert.ok(!typed.ok && typed.reason.endsWith('got [redacted]') && !typed.reason.includes('12345'));
    const port = { ...knobAt('http.port')!, secret: true };
    const text = parseText(port, 'hunter2');
    assert.ok(!text.ok && !text.reason.includes('hunter2'));
  });

  it('truncate long offending values', () => {
    const r = checkValue(knobAt('http.port')!, 'x'.repeat(500));
    assert.ok(!r.ok && r.reason.length < 200 && r.reason.endsWith('...'));
  });
});

describe('issuerOf', () => {
  const base = buildDefaults();
  it('derives http://host:port when http.issuer is empty', () => {
    assert.equal(issuerOf(base), 'http://127.0.0.1:9000');
    assert.equal(issuerOf(base, 41234), 'http://127.0.0.1:41234', 'the bound port replaces port 0');
    assert.equal(issuerOf({ ...base, http: { ...base.http, host: '::1' } }), 'http://[::1]:9000');
  });
  it('uses http.issuer verbatim when set', () => {
    assert.equal(issuerOf({ ...base, http: { ...base.http, issuer: 'https://id.example.com/sso' } }), 'https://id.example.com/sso');
  });
});
