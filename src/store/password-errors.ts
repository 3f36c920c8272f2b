// How every durable-store backend reports password problems: bad input is INVALID naming the field; a failure to
// hash (an unreadable stored hash, scrypt refusing its parameters) is UNAVAILABLE, not the user's fault.
import { MAX_PASSWORD_BYTES, PasswordError } from '../auth/password.js';
import { StoreError } from './types.js';

export async function withPasswordErrors<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof PasswordError)) throw err;
    if (err.code === 'EMPTY') throw new StoreError('INVALID', 'password: must not be empty', { cause: err });
    if (err.code === 'TOO_LONG') {
      throw new StoreError('INVALID', `password: must be at most ${MAX_PASSWORD_BYTES} bytes`, { cause: err });
    }
    throw new StoreError('UNAVAILABLE', `password hashing failed: ${err.message}`, { cause: err });
  }
}
