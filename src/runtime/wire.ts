// Back-channel methods of configuration replication. Payloads carry a `v` so a newer node can tell an older
// request apart during a rolling upgrade.
import type { ConfigVersion } from '../store/types.js';

export const CONFIG_WIRE_VERSION = 1;

/** Engine -> console: the latest published version. Answer: LatestAnswer. */
export const LATEST_METHOD = 'config.latest';
/** Console -> engine: switch to this version. Payload: ApplyRequest. Answer: { v, version }. */
export const APPLY_METHOD = 'config.apply';
/** Engine -> console: the version this node now runs (after a start or a catch-up). Payload: { v, version }. */
export const REPORT_METHOD = 'config.report';

export interface LatestAnswer { v: number; latest: ConfigVersion | null }
export interface ApplyRequest { v: number; version: ConfigVersion }
export interface VersionAnswer { v: number; version: number }

export function asConfigVersion(value: unknown): ConfigVersion | undefined {
  const v = value as Partial<ConfigVersion> | null;
  if (!v || typeof v !== 'object' || typeof v.version !== 'number' || typeof v.digest !== 'string'
    || typeof v.snapshot !== 'string' || typeof v.publishedAt !== 'number' || typeof v.publishedBy !== 'string') return undefined;
  return { version: v.version, digest: v.digest, snapshot: v.snapshot, publishedAt: v.publishedAt, publishedBy: v.publishedBy };
}
