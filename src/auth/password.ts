// Password hashing with scrypt: memory-hard, so guessing a leaked hash costs memory as well as time, which is what
// makes GPU and ASIC attacks expensive. Hashes are self-describing (PHC string format) so that a hash made with
// yesterday's parameters still verifies after the configuration changes; needsRehash() tells when to upgrade it.
//
//   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
//
// The key length is the decoded hash's length, so it needs no field of its own.
import { availableParallelism } from 'node:os';
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { CohortConfig } from '../config/types.js';

/** scrypt cost (N, a power of two), blockSize (r), parallelization (p), keyLength (bytes), maxMemoryMb (MiB). */
export type ScryptParams = CohortConfig['auth']['scrypt'];

/**
 * OWASP Password Storage Cheat Sheet, scrypt: N=2^15, r=8, p=1, which needs 128·N·r = 32 MiB per hash (about 60 ms
 * on a current server core). keyLength 32 bytes = 256 bits, as long as anything a password could hold.
 * maxMemoryMb 64 is twice what these parameters need: headroom, and an upper bound so that a wrong configuration
 * fails at start instead of exhausting memory under load (node's own default limit, 32 MiB, is just too small).
 */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({
  cost: 32768,
  blockSize: 8,
  parallelization: 1,
  keyLength: 32,
  maxMemoryMb: 64,
});

/** Longest accepted password, in UTF-8 bytes: a bound on input, far beyond any passphrase. */
export const MAX_PASSWORD_BYTES = 1024;

/** Random salt per hash; 128 bits makes two equal salts practically impossible. */
export const SALT_BYTES = 16;

const MIB = 1024 * 1024;
/**
 * A stored hash may carry parameters heavier than today's configuration (the limit was lowered after it was made).
 * It still verifies, up to this ceiling, so that a corrupt or hostile row cannot make one login allocate gigabytes.
 */
const MAX_VERIFY_MEMORY_BYTES = 1024 * MIB;

export type PasswordErrorCode = 'EMPTY' | 'TOO_LONG' | 'BAD_PARAMS' | 'BAD_HASH';

export class PasswordError extends Error {
  constructor(readonly code: PasswordErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PasswordError';
  }
}

interface Decoded {
  logCost: number;
  blockSize: number;
  parallelization: number;
  salt: Buffer;
  hash: Buffer;
}

/** Bytes scrypt allocates (OpenSSL's own formula: the V array plus the B blocks). */
export function scryptMemoryBytes(cost: number, blockSize: number, parallelization: number): number {
  return 128 * blockSize * (cost + 2 + parallelization);
}

/** Throws PasswordError('BAD_PARAMS') naming the offending field; hashing with such parameters would fail or be weak. */
export function validateScryptParams(params: ScryptParams): void {
  const { cost, blockSize, parallelization, keyLength, maxMemoryMb } = params;
  const bad = (field: string, rule: string) =>
    new PasswordError('BAD_PARAMS', `auth.scrypt.${field} ${rule}`);
  if (!Number.isInteger(cost) || cost < 2 || cost > 2 ** 24 || (cost & (cost - 1)) !== 0) {
    throw bad('cost', `must be a power of two between 2 and 2^24 (got ${cost})`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 64) {
    throw bad('blockSize', `must be an integer from 1 to 64 (got ${blockSize})`);
  }
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > 64) {
    throw bad('parallelization', `must be an integer from 1 to 64 (got ${parallelization})`);
  }
  if (!Number.isInteger(keyLength) || keyLength < 16 || keyLength > 128) {
    throw bad('keyLength', `must be an integer from 16 to 128 bytes (got ${keyLength})`);
  }
  if (!Number.isFinite(maxMemoryMb) || maxMemoryMb <= 0) {
    throw bad('maxMemoryMb', `must be a positive number of MiB (got ${maxMemoryMb})`);
  }
  const needed = scryptMemoryBytes(cost, blockSize, parallelization);
  if (needed > maxMemoryMb * MIB) {
    throw bad('maxMemoryMb', `is ${maxMemoryMb} MiB but cost ${cost} and blockSize ${blockSize} need ` +
      `${Math.ceil(needed / MIB)} MiB per hash; lower the cost or raise the limit`);
  }
}

/**
 * Passwords are compared as NFC-normalised UTF-8 (RFC 8265's OpaqueString), so the same password typed on systems
 * that compose accents differently still matches. Throws for empty or over-long passwords.
 */
function passwordBytes(password: string): Buffer {
  if (typeof password !== 'string' || password.length === 0) {
    throw new PasswordError('EMPTY', 'password must not be empty');
  }
  const bytes = Buffer.from(password.normalize('NFC'), 'utf8');
  if (bytes.length > MAX_PASSWORD_BYTES) {
    throw new PasswordError('TOO_LONG', `password must be at most ${MAX_PASSWORD_BYTES} bytes (got ${bytes.length})`);
  }
  return bytes;
}

/**
 * At most this many hashes run at once. scrypt uses libuv's shared thread pool (4 threads), which also signs tokens
 * and reads files: letting sign-ins fill it made token requests wait behind password hashes (refresh p99 from 3 ms
 * to 300 ms under sign-in load). One fewer than the pool leaves a thread for everything else; more would not add
 * sign-in throughput on the cores there are.
 */
const MAX_CONCURRENT_HASHES = Math.max(1, Math.min(availableParallelism(), 3));
// Module-level on purpose: the thread pool it protects is one per process.
let running = 0;
const waiting: Array<() => void> = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

function runScrypt(password: Buffer, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  // The callback form runs on libuv's thread pool, so a hash never blocks the event loop.
  return withHashSlot(() => new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  }));
}

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{22,171})$/;

function decode(encoded: string): Decoded | undefined {
  const m = typeof encoded === 'string' ? ENCODED.exec(encoded) : null;
  if (!m) return undefined;
  const [logCost, blockSize, parallelization] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logCost < 1 || logCost > 24 || blockSize < 1 || blockSize > 64 || parallelization < 1 || parallelization > 64) {
    return undefined;
  }
  return { logCost, blockSize, parallelization, salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

/** Hashes a password with a fresh random salt; returns the PHC string to store. */
export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  validateScryptParams(params);
  const bytes = passwordBytes(password);
  const salt = randomBytes(SALT_BYTES);
  const { cost, blockSize, parallelization, keyLength, maxMemoryMb } = params;
  const hash = await runScrypt(bytes, salt, keyLength, {
    N: cost, r: blockSize, p: parallelization, maxmem: maxMemoryMb * MIB,
  });
  return `$scrypt$ln=${Math.log2(cost)},r=${blockSize},p=${parallelization}$${b64(salt)}$${b64(hash)}`;
}

/**
 * True when `password` matches `encoded`, compared in constant time. The hash's own parameters are used, so old
 * hashes keep verifying; `params.maxMemoryMb` is raised to what the stored hash needs, up to a fixed ceiling.
 * Throws PasswordError for an empty or over-long password, or a stored value that is not a scrypt PHC string.
 */
export async function verifyPassword(password: string, encoded: string, params: ScryptParams): Promise<boolean> {
  const bytes = passwordBytes(password);
  const decoded = decode(encoded);
  if (!decoded) throw new PasswordError('BAD_HASH', 'stored password hash is not a scrypt PHC string');
  const cost = 2 ** decoded.logCost;
  const needed = scryptMemoryBytes(cost, decoded.blockSize, decoded.parallelization);
  if (needed > MAX_VERIFY_MEMORY_BYTES) {
    throw new PasswordError('BAD_HASH', `stored password hash needs ${Math.ceil(needed / MIB)} MiB, over the ceiling`);
  }
  const candidate = await runScrypt(bytes, decoded.salt, decoded.hash.length, {
    N: cost, r: decoded.blockSize, p: decoded.parallelization, maxmem: Math.max(params.maxMemoryMb * MIB, needed),
  });
  return timingSafeEqual(candidate, decoded.hash);
}

/** True when `encoded` was made with other parameters than `params` (or is unreadable) and should be replaced. */
export function needsRehash(encoded: string, params: ScryptParams): boolean {
  const decoded = decode(encoded);
  if (!decoded) return true;
  return 2 ** decoded.logCost !== params.cost
    || decoded.blockSize !== params.blockSize
    || decoded.parallelization !== params.parallelization
    || decoded.hash.length !== params.keyLength
    || decoded.salt.length < SALT_BYTES;
}

/**
 * The password functions bound to one set of parameters, plus a dummy hash made on first use (or by warmUp()).
 * Checking a password for a user that does not exist runs one full verification against the dummy, so an unknown
 * username costs the same time as a wrong password and timing does not reveal which usernames exist.
 */
export class PasswordHasher {
  readonly params: Readonly<ScryptParams>;
  #dummy: Promise<string> | undefined;

  constructor(params: ScryptParams) {
    validateScryptParams(params);
    this.params = Object.freeze({ ...params });
  }

  hash(password: string): Promise<string> {
    return hashPassword(password, this.params);
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return verifyPassword(password, encoded, this.params);
  }

  needsRehash(encoded: string): boolean {
    return needsRehash(encoded, this.params);
  }

  /** Spends one verification, like a wrong password does, and returns false. */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(password, await this.dummyHash());
    return false;
  }

  /** Computes the dummy hash now, so that not even the first unknown-user check takes longer than the others. */
  async warmUp(): Promise<void> {
    await this.dummyHash();
  }

  private dummyHash(): Promise<string> {
    if (!this.#dummy) {
      const pending = this.hash(randomBytes(32).toString('base64url'));
      // Forget a failed attempt so the next call retries instead of failing forever.
      pending.catch(() => { if (this.#dummy === pending) this.#dummy = undefined; });
      this.#dummy = pending;
    }
    return this.#dummy;
  }
}
