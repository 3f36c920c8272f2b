// What publishing would change: the staged content against the latest published version, record by record, with
// the names of the fields that differ (never their values: key material and secret hashes stay out of the answer).
import { canonicalJson } from './canonical.js';
import type { RuntimeContent } from './types.js';

export interface ConfigChange {
  kind: 'client' | 'serviceProvider' | 'key' | 'setting';
  id: string;
  change: 'added' | 'removed' | 'modified';
  fields?: string[];
}

function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}

function diffRecords<T extends object>(kind: ConfigChange['kind'], idOf: (t: T) => string, before: T[], after: T[]): ConfigChange[] {
  const old = new Map(before.map((r) => [idOf(r), r]));
  const now = new Map(after.map((r) => [idOf(r), r]));
  const out: ConfigChange[] = [];
  for (const [id, record] of now) {
    const previous = old.get(id);
    if (!previous) out.push({ kind, id, change: 'added' });
    else {
      const fields = changedFields(previous as Record<string, unknown>, record as Record<string, unknown>);
      if (fields.length > 0) out.push({ kind, id, change: 'modified', fields });
    }
  }
  for (const id of old.keys()) if (!now.has(id)) out.push({ kind, id, change: 'removed' });
  return out;
}

/** Changes from `published` (undefined: nothing published yet, so everything is added) to `staged`. */
export function diffContent(published: RuntimeContent | undefined, staged: RuntimeContent): ConfigChange[] {
  const before: RuntimeContent = published ?? { clients: [], serviceProviders: [], keys: [], settings: staged.settings };
  const settings: ConfigChange[] = [];
  for (const section of ['session', 'protocols', 'branding'] as const) {
    const fields = changedFields(before.settings[section] as never, staged.settings[section] as never);
    if (fields.length > 0) settings.push({ kind: 'setting', id: section, change: 'modified', fields });
  }
  return [
    ...diffRecords('client', (c) => c.clientId, before.clients, staged.clients),
    ...diffRecords('serviceProvider', (s) => s.entityId, before.serviceProviders, staged.serviceProviders),
    ...diffRecords('key', (k) => k.kid, before.keys, staged.keys),
    ...settings,
  ];
}
