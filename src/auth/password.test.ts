import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import {
  DEFAULT_SCRYPT, MAX_PASSWORD_BYTES, PasswordError, PasswordHasher, hashPassword, needsRehash, scryptMemoryBytes,
  validateScryptParams, verifyPassword, type ScryptParams,
} from './password.js';

const CHEAP: ScryptParams = { cost: 1024, blockSize: 8, parallelization: 1, keyLength: 32, maxMemoryMb: 16 };

const isPasswordError = (code: PasswordError['code'], mentions?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof PasswordError, String(err));
  assert.equal(err.code, code);
  if (mentions) assert.match(err.message, mentions);
  return true;
};

describe('password hashing', () => {
  it('defaults to the OWASP scrypt parameters, which fit their memory limit', () => {
    assert.deepEqual({ ...DEFAULT_SCRYPT }, { cost: 2 ** 15, blockSize: 8, parallelization: 1, keyLength: 32, maxMemoryMb: 64 });
    assert.ok(Object.isFrozen(DEFAULT_SCRYPT));
    validateScryptParams(DEFAULT_SCRYPT);
    // 128 * N * r = 32 MiB, plus a little for the B blocks.
    assert.equal(Math.round(scryptMemoryBytes(2 ** 15, 8, 1) / 2 ** 20), 32);
  });

  it('encodes hashes in PHC format with a fresh salt each time', async () => {
    const a = await hashPassword('s3cret', CHEAP);
    const b = await hashPassword('s3cret', CHEAP);
    assert.match(a, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b);
    assert.ok(!a.includes('s3cret'));
  });

  it('produces the standard scrypt output, so any scrypt implementation can check it', async () => {
    const encoded = await hashPassword('interop', CHEAP);
    const [, , , salt, hash] = encoded.split('$');
    const expected = scryptSync('interop', Buffer.from(salt!, 'base64'), 32, { N: 1024, r: 8, p: 1 });
    assert.equal(Buffer.from(hash!, 'base64').toString('hex'), expected.toString('hex'));
  });

  it('verifies the right password and rejects others', async () => {
    const encoded = await hashPassword('correct horse battery staple', CHEAP);
    assert.equal(await verifyPassword('correct horse battery staple', encoded, CHEAP), true);
    assert.equal(await verifyPassword('correct horse battery stapl', encoded, CHEAP), false);
    assert.equal(await verifyPassword('Correct horse battery staple', encoded, CHEAP), false);
  });

  it('verifies with the parameters in the hash, not the current ones', async () => {
    const old = await hashPassword('pw', { ...CHEAP, cost: 2048, keyLength: 64 });
    assert.match(old, /ln=11,/);
    assert.equal(await verifyPassword('pw', old, CHEAP), true);
    assert.equal(await verifyPassword('px', old, CHEAP), false);
  });

  it('verifies a hash heavier than today\'s memory limit allows for new hashes', async () => {
    const heavy = await hashPassword('pw', { ...CHEAP, cost: 16384, maxMemoryMb: 32 });
    assert.equal(await verifyPassword('pw', heavy, { ...CHEAP, maxMemoryMb: 1 }), true);
  });

  it('normalises passwords to NFC before hashing', async () => {
    const encoded = await hashPassword('\u00c5ngstr\u00f6m', CHEAP); // precomposed
    assert.equal(await verifyPassword('A\u030angstro\u0308m', encoded, CHEAP), true); // combining marks
  });

  it('rejects empty passwords and passwords over 1,024 bytes', async () => {
    assert.equal(MAX_PASSWORD_BYTES, 1024);
    await assert.rejects(hashPassword('', CHEAP), isPasswordError('EMPTY'));
    await assert.rejects(hashPassword('a'.repeat(1025), CHEAP), isPasswordError('TOO_LONG', /1024 bytes/));
    await assert.rejects(hashPassword('é'.repeat(513), CHEAP), isPasswordError('TOO_LONG', /1026/));
    const encoded = await hashPassword('a'.repeat(1024), CHEAP);
    await assert.rejects(verifyPassword('a'.repeat(1025), encoded, CHEAP), isPasswordError('TOO_LONG'));
    assert.equal(await verifyPassword('a'.repeat(1024), encoded, CHEAP), true);
  });

  it('rejects stored values that are not scrypt PHC strings', async () => {
    for (const bad of ['', 'plaintext', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g',
      '$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA', '$scrypt$ln=0,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g']) {
      await assert.rejects(verifyPassword('pw', bad, CHEAP), isPasswordError('BAD_HASH'), bad);
    }
  });

  it('refuses parameters that are invalid or exceed the memory limit, naming the field', async () => {
    const cases: [Partial<ScryptParams>, RegExp][] = [
      [{ cost: 1000 }, /auth\.scrypt\.cost/],
      [{ cost: 1 }, /auth\.scrypt\.cost/],
      [{ blockSize: 0 }, /auth\.scrypt\.blockSize/],
      [{ parallelization: 1.5 }, /auth\.scrypt\.parallelization/],
      [{ keyLength: 8 }, /auth\.scrypt\.keyLength/],
      [{ maxMemoryMb: 0 }, /auth\.scrypt\.maxMemoryMb/],
      [{ cost: 2 ** 15, maxMemoryMb: 16 }, /need 33 MiB/],
    ];
    for (const [change, message] of cases) {
      await assert.rejects(hashPassword('pw', { ...CHEAP, ...change }), isPasswordError('BAD_PARAMS', message));
      assert.throws(() => new PasswordHasher({ ...CHEAP, ...change }), isPasswordError('BAD_PARAMS', message));
    }
  });

  it('tells when a hash needs re-hashing', async () => {
    const encoded = await hashPassword('pw', CHEAP);
    assert.equal(needsRehash(encoded, CHEAP), false);
    assert.equal(needsRehash(encoded, { ...CHEAP, maxMemoryMb: 64 }), false, 'the memory limit is not part of a hash');
    assert.equal(needsRehash(encoded, { ...CHEAP, cost: 2048 }), true);
    assert.equal(needsRehash(encoded, { ...CHEAP, blockSize: 16 }), true);
    assert.equal(needsRehash(encoded, { ...CHEAP, parallelization: 2 }), true);
    assert.equal(needsRehash(encoded, { ...CHEAP, keyLength: 64 }), true);
    assert.equal(needsRehash('garbage', CHEAP), true);
  });
});

describe('PasswordHasher', () => {
  it('hashes and verifies with its parameters', async () => {
    const hasher = new PasswordHasher(CHEAP);
    const encoded = await hasher.hash('pw');
    assert.equal(await hasher.verify('pw', encoded), true);
    assert.equal(await hasher.verify('pW', encoded), false);
    assert.equal(hasher.needsRehash(encoded), false);
    assert.ok(Object.isFrozen(hasher.params));
  });

  it('spends a full verification on a missing user, as long as a wrong password takes', async () => {
    const params = { ...CHEAP, cost: 8192 };
    const hasher = new PasswordHasher(params);
    await hasher.warmUp();
    const encoded = await hasher.hash('right');
    const time = async (step: () => Promise<boolean>) => {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = process.hrtime.bigint();
        assert.equal(await step(), false);
        runs.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return runs.sort((a, b) => a - b)[2]!;
    };
    const wrong = await time(() => hasher.verify('wrong', encoded));
    const missing = await time(() => hasher.verifyNothing('wrong'));
    assert.ok(missing > wrong / 3, `missing user ${missing} ms vs wrong password ${wrong} ms`);
  });

  it('still rejects over-long passwords for a missing user', async () => {
    await assert.rejects(new PasswordHasher(CHEAP).verifyNothing('a'.repeat(2000)), isPasswordError('TOO_LONG'));
  });
});
