// Writing an archive's content into a store's staged tables, idempotently: clients are put whole (an existing
// client id is replaced, secret hash included), service providers created or replaced, keys added when missing
// (and retired when the archive says so), settings replaced. Run twice, the second run changes nothing.
import type { DurableStore, NewServiceProvider } from '../store/types.js';
import { mergeSettings } from './settings.js';
import { SETTINGS, type RuntimeContent } from './types.js';

export interface ImportSummary { clients: number; serviceProviders: number; keysAdded: number; keysRetired: number }

export async function importContent(store: DurableStore, content: RuntimeContent, actor: string): Promise<ImportSummary> {
  const summary: ImportSummary = { clients: 0, serviceProviders: 0, keysAdded: 0, keysRetired: 0 };
  // Settings first: a bad document is refused before anything else is written.
  const settings = mergeSettings(content.settings, content.settings);
  for (const client of content.clients) {
    await store.clients.put(client);
    summary.clients++;
  }
  for (const sp of content.serviceProviders) {
    const { createdAt: _c, ...record } = sp;
    if (await store.serviceProviders.get(sp.entityId)) await store.serviceProviders.update(record as NewServiceProvider);
    else await store.serviceProviders.create(record as NewServiceProvider);
    summary.serviceProviders++;
  }
  const existing = new Map([...await store.keys.list('sig'), ...await store.keys.list('cookie')].map((k) => [k.kid, k]));
  for (const key of content.keys) {
    const have = existing.get(key.kid);
    if (!have) {
      await store.keys.add(key);
      summary.keysAdded++;
    } else if (key.retired && !have.retired) {
      await store.keys.retire(key.kid);
      summary.keysRetired++;
    }
  }
  await store.settings.put(SETTINGS.runtime, settings as unknown as Record<string, unknown>, actor);
  await store.settings.put(SETTINGS.staged, { what: 'configuration imported' }, actor);
  await store.audit?.append({ actor, action: 'config.imported', details: { ...summary } });
  return summary;
}
