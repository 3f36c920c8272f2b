import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ABSOLUTE_TTL_MS, ConsoleSessions, IDLE_TTL_MS } from './session.js';

describe('console sessions', () => {
  const user = { id: 'u1', username: 'admin' };

  it('verifies its own tokens and refuses tampered ones and other keys', () => {
    const sessions = new ConsoleSessions();
    const { token, session } = sessions.issue(user);
    assert.deepEqual(sessions.verify(token), session);
    assert.equal(sessions.verify(`${token.slice(0, -2)}xx`), undefined);
    assert.equal(sessions.verify(`${Buffer.from('["a","u1","admin",0,0]').toString('base64url')}.${token.split('.')[1]}`), undefined);
    assert.equal(new ConsoleSessions().verify(token), undefined, 'another process (key) cannot verify it');
    assert.equal(sessions.verify(undefined), undefined);
    assert.equal(sessions.verify('garbage'), undefined);
  });

  it('expires after 30 idle minutes unless refreshed, and after 8 hours in any case', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ now: () => now });
    let { token } = sessions.issue(user);
    now += IDLE_TTL_MS + 1;
    assert.equal(sessions.verify(token), undefined, 'idle too long');
    now = 1_000_000;
    ({ token } = sessions.issue(user));
    for (let t = 0; t < ABSOLUTE_TTL_MS; t += 20 * 60_000) {
      now = 1_000_000 + t;
      const s = sessions.verify(token);
      assert.ok(s, `still valid at ${t / 60_000} min`);
      token = sessions.refreshed(s) ?? token;
    }
    now = 1_000_000 + ABSOLUTE_TTL_MS + 1;
    assert.equal(sessions.verify(token), undefined, 'older than 8 hours');
  });

  it('signs out, and binds CSRF tokens to the session', () => {
    const sessions = new ConsoleSessions();
    const a = sessions.issue(user);
    const b = sessions.issue(user);
    assert.equal(sessions.checkCsrf(a.session, sessions.csrfToken(a.session)), true);
    assert.equal(sessions.checkCsrf(a.session, sessions.csrfToken(b.session)), false);
    assert.equal(sessions.checkCsrf(a.session, undefined), false);
    sessions.signOut(a.session);
    assert.equal(sessions.verify(a.token), undefined);
    assert.ok(sessions.verify(b.token));
    assert.equal(sessions.checkLoginToken('n1', sessions.loginToken('n1')), true);
    assert.equal(sessions.checkLoginToken('n2', sessions.loginToken('n1')), false);
  });
});
