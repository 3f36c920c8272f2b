// The paging of SessionStore.list(), checked the same way by every backend.
import type { SessionListOptions } from './types.js';

/** offset (default 0) and limit (default Infinity: no limit); RangeError for anything but non-negative integers. */
export function pageOf(options: SessionListOptions): { offset: number; limit: number } {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? Infinity;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('offset must be a non-negative integer');
  if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError('limit must be a non-negative integer');
  }
  return { offset, limit };
}
