// Snapshots of the runtime configuration: the staged content read from a store's live tables, its canonical text
// and digest, and a published version turned back into a RuntimeConfig after its digest is checked.
import { createHash } from 'node:crypto';
import type { CohortConfig } from '../config/types.js';
import type { ConfigVersion, DurableStore } from '../store/types.js';
import { canonicalJson } from './canonical.js';
import { defaultSettings, mergeSettings } from './settings.js';
import { SETTINGS, type RuntimeConfig, type RuntimeContent, type RuntimeSettings } from './types.js';

export class SnapshotError extends Error {
  readonly code = 'CONFIG_SNAPSHOT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The staged settings: the stored document over the static configuration's defaults. */
export async function stagedSettings(store: DurableStore, config: Pick<CohortConfig, 'session' | 'saml'>): Promise<RuntimeSettings> {
  const base = defaultSettings(config);
  const stored = await store.settings.get(SETTINGS.runtime);
  if (!stored) return base;
  try {
    return mergeSettings(base, stored.value);
  } catch {
    // A document written by a newer version with fields this one does not know: keep what this one understands.
    return base;
  }
}

/** Everything the live tables hold, in a stable order (so equal content gives equal text). */
export async function stagedContent(store: DurableStore, config: Pick<CohortConfig, 'session' | 'saml'>): Promise<RuntimeContent> {
  const [clients, serviceProviders, sig, cookie, settings] = await Promise.all([
    store.clients.list(), store.serviceProviders.list(), store.keys.list('sig'), store.keys.list('cookie'),
    stagedSettings(store, config),
  ]);
  const byId = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    clients: [...clients].sort(byId((c) => c.clientId)),
    serviceProviders: [...serviceProviders].sort(byId((s) => s.entityId)),
    keys: [...sig, ...cookie].sort(byId((k) => k.kid)),
    settings,
  };
}

export function snapshotOf(content: RuntimeContent): { snapshot: string; digest: string } {
  const snapshot = canonicalJson(content);
  return { snapshot, digest: sha256Hex(snapshot) };
}

/** The node's live tables as version 0 (nothing published, or configSource store). */
export function liveRuntime(content: RuntimeContent): RuntimeConfig {
  return { ...content, version: 0, publishedAt: 0, publishedBy: 'store', digest: '' };
}

/** A published version as a RuntimeConfig; SnapshotError if the text does not match its digest or is not a snapshot. */
export function runtimeOf(version: ConfigVersion): RuntimeConfig {
  if (sha256Hex(version.snapshot) !== version.digest) {
    throw new SnapshotError(`configuration version ${version.version} does not match its digest`);
  }
  let content: RuntimeContent;
  try {
    content = JSON.parse(version.snapshot) as RuntimeContent;
  } catch {
    throw new SnapshotError(`configuration version ${version.version} is not valid JSON`);
  }
  if (!Array.isArray(content.clients) || !Array.isArray(content.serviceProviders) || !Array.isArray(content.keys)
    || typeof content.settings !== 'object' || content.settings === null) {
    throw new SnapshotError(`configuration version ${version.version} lacks clients, serviceProviders, keys or settings`);
  }
  return { ...content, version: version.version, publishedAt: version.publishedAt, publishedBy: version.publishedBy, digest: version.digest };
}
