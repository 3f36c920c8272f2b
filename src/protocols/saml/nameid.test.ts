import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS } from './errors.js';
import { FORMAT, formatFromUri, nameIdFor } from './nameid.js';
import { assertSamlError } from './test-assert.js';

const secret = Buffer.alloc(32, 7);
const user = { id: 'u1', username: 'alice' };

describe('nameIdFor', () => {
  it('gives stable pairwise persistent IDs that differ per SP and per secret', () => {
    const a = nameIdFor({ format: 'persistent', user, spEntityId: 'https://a', secret });
    assert.equal(nameIdFor({ format: 'persistent', user, spEntityId: 'https://a', secret }), a);
    assert.notEqual(nameIdFor({ format: 'persistent', user, spEntityId: 'https://b', secret }), a);
    assert.notEqual(nameIdFor({ format: 'persistent', user, spEntityId: 'https://a', secret: Buffer.alloc(32, 8) }), a);
    assert.match(a, /^[A-Za-z0-9+/]{43}=$/);
  });

  it('gives a fresh transient ID each time, and the email or username for the other formats', () => {
    const t = nameIdFor({ format: 'transient', user, spEntityId: 'https://a', secret });
    assert.notEqual(nameIdFor({ format: 'transient', user, spEntityId: 'https://a', secret }), t);
    assert.equal(nameIdFor({ format: 'unspecified', user, spEntityId: 'https://a', secret }), 'alice');
    assert.equal(nameIdFor({ format: 'emailAddress', user: { ...user, email: 'a@example.org' }, spEntityId: 'x', secret }), 'a@example.org');
    const err = assertSamlError(() => nameIdFor({ format: 'emailAddress', user, spEntityId: 'x', secret }), 400, 'NO_EMAIL');
    assert.equal(err.samlStatus, STATUS.invalidNameIdPolicy);
  });

  it('maps format URIs back to keys', () => {
    for (const [key, uri] of Object.entries(FORMAT)) assert.equal(formatFromUri(uri), key);
    assert.equal(formatFromUri('urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos'), undefined);
  });
});
