// Routed IDs: identifiers the cluster must route (sessions, tokens, artifacts) carry the index of the node that
// created and owns them, so any node can find the owner without asking around. Format: `<random>.<index base36>`,
// e.g. `kT3…Q9.2` for node 2. The suffix uses characters legal in cookies, bearer tokens (RFC 6750 b64token) and
// URLs, and adds at most 4 characters to 256 bits of randomness.
import { randomBytes } from 'node:crypto';

const SUFFIX = /\.([0-9a-z]{1,4})$/;
export const MAX_NODE_INDEX = 65_535;

/** 32 random bytes (256 bits) as base64url, then the owner's index. */
export function routedId(ownerIndex: number, randomPart: string = randomBytes(32).toString('base64url')): string {
  if (!Number.isInteger(ownerIndex) || ownerIndex < 0 || ownerIndex > MAX_NODE_INDEX) {
    throw new RangeError(`node index must be an integer 0-${MAX_NODE_INDEX}, got ${ownerIndex}`);
  }
  return `${randomPart}.${ownerIndex.toString(36)}`;
}

/** The owner's index carried by an ID, or undefined for IDs the cluster did not create (or malformed ones). */
export function ownerIndexOf(id: string): number | undefined {
  const match = SUFFIX.exec(id);
  if (!match) return undefined;
  const index = parseInt(match[1]!, 36);
  return index <= MAX_NODE_INDEX ? index : undefined;
}
