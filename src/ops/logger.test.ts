import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { REDACTED, createLogger, redactPaths } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { destination, records: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

describe('createLogger', () => {
  it('writes JSON lines with the node name, index, level name and ISO time', () => {
    const { destination, records } = capture();
    const log = createLogger({ level: 'info', name: 'node-a', index: 7, destination });
    log.info({ event: 'node.started' }, 'hello');
    log.debug('filtered out at info');
    const [line, ...rest] = records();
    assert.equal(rest.length, 0, 'debug is below info');
    assert.equal(line!.node, 'node-a');
    assert.equal(line!.nodeIndex, 7);
    assert.equal(line!.level, 'info');
    assert.equal(line!.msg, 'hello');
    assert.equal(line!.event, 'node.started');
    assert.match(line!.time, /^\d{4}-\d\d-\d\dT/);
  });

  it('redacts passwords, cookies, authorization headers, tokens and secrets at any usual depth', () => {
    const { destination, records } = capture();
    const log = createLogger({ level: 'info', name: 'n', index: 0, destination });
    const input = {
      password: 'hunter2',
      user: { username: 'alice', password: 'hunter3' },
      req: {
        headers: { cookie: 'sid=abc', authorization: 'Bearer xyz', host: 'idp.example' },
        body: { client_secret: 'cs', refresh_token: 'rt', id_token_hint: 'ith', grant_type: 'refresh_token' },
        query: { code: 'authz-code', state: 'st' },
      },
      res: { headers: { 'set-cookie': ['sid=def'] } },
      access_token: 'at',
    };
    log.info(input, 'request');
    const line = records()[0]!;
    assert.equal(line.password, REDACTED);
    assert.equal(line.user.password, REDACTED);
    assert.equal(line.user.username, 'alice');
    assert.equal(line.req.headers.cookie, REDACTED);
    assert.equal(line.req.headers.authorization, REDACTED);
    assert.equal(line.req.headers.host, 'idp.example');
    assert.equal(line.req.body.client_secret, REDACTED);
    assert.equal(line.req.body.refresh_token, REDACTED);
    assert.equal(line.req.body.id_token_hint, REDACTED);
    assert.equal(line.req.body.grant_type, 'refresh_token');
    assert.equal(line.req.query.code, REDACTED);
    assert.equal(line.req.query.state, 'st');
    assert.equal(line.res.headers['set-cookie'], REDACTED);
    assert.equal(line.access_token, REDACTED);
    assert.equal(input.password, 'hunter2', 'the logged object itself is not modified');
    for (const secret of ['hunter2', 'hunter3', 'sid=abc', 'Bearer xyz', 'authz-code', '"cs"', '"rt"', 'sid=def']) {
      assert.ok(!JSON.stringify(line).includes(secret), `${secret} leaked`);
    }
  });

  it('keeps error codes but redacts secrets carried by a logged error', () => {
    const { destination, records } = capture();
    const log = createLogger({ level: 'info', name: 'n', index: 0, destination });
    const err = Object.assign(new Error('upstream refused'), { config: { headers: { authorization: 'Basic c2VjcmV0' } } });
    log.error({ err, code: 'CONFIG_INVALID' }, 'failed');
    const line = records()[0]!;
    assert.equal(line.code, 'CONFIG_INVALID', 'a top-level code is an error code, not an authorization code');
    assert.equal(line.err.message, 'upstream refused');
    assert.equal(line.err.config.headers.authorization, REDACTED);
  });

  it('builds valid, distinct redact paths', () => {
    const paths = redactPaths();
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(paths.includes('*["set-cookie"]') && paths.includes('*.*.*.password') && paths.includes('*.query.code'));
    assert.ok(!paths.includes('code') && !paths.includes('*.code'), 'code is only redacted inside request parameters');
  });
});
