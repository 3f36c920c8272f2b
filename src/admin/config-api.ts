// Console API for configuration versions: what is staged and published and where, the diff publishing would
// apply, publish itself, the version history, the runtime settings document, and the audit log.
import type { CohortConfig } from '../config/types.js';
import type { DurableStore } from '../store/types.js';
import { badRequest } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { ConfigPublisher } from '../runtime/publisher.js';
import { mergeSettings } from '../runtime/settings.js';
import { stagedSettings } from '../runtime/snapshot.js';
import { SETTINGS } from '../runtime/types.js';
import { objectBody, storeCall, type AdminRouteSpec } from './route.js';

export interface ConfigApiDeps {
  config: CohortConfig;
  store: DurableStore;
  publisher: ConfigPublisher;
  /** Node names by index, for the per-node lists. */
  nodeName(index: number): string | undefined;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function intParam(url: URL, name: string, fallback: number | undefined, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) > max) throw badRequest(`'${name}' must be an integer from 0 to ${max}.`, 'ADMIN_BAD_PARAMETER');
  return Number(raw);
}

export function configApi(deps: ConfigApiDeps): AdminRouteSpec[] {
  const { store, publisher } = deps;
  return [
    {
      name: 'config.get', method: 'GET', path: /^\/admin\/api\/config\/?$/,
      handle: async ({ res }) => {
        const s = await publisher.summary();
        sendJson(res, 200, {
          staged: { modifiedAt: iso(s.staged.modifiedAt), modifiedBy: s.staged.modifiedBy },
          published: s.published && { ...s.published, publishedAt: iso(s.published.publishedAt) },
          nodes: s.nodes.map((n) => ({ index: n.index, name: deps.nodeName(n.index) ?? null, version: n.version, replicatedAt: iso(n.replicatedAt) })),
        });
      },
    },
    {
      name: 'config.diff', method: 'GET', path: /^\/admin\/api\/config\/diff\/?$/,
      handle: async ({ res }) => sendJson(res, 200, { changes: await publisher.diff() }),
    },
    {
      name: 'config.publish', method: 'POST', path: /^\/admin\/api\/config\/publish\/?$/, write: true,
      handle: async ({ res, actor }) => {
        const result = await storeCall(() => publisher.publish(actor.name));
        sendJson(res, 200, { version: result.version, changed: result.changed, nodes: result.nodes });
      },
    },
    {
      name: 'config.versions', method: 'GET', path: /^\/admin\/api\/config\/versions\/?$/,
      handle: async ({ res, url }) => {
        const limit = intParam(url, 'limit', 100, 1000)!;
        const versions = await store.configVersions.list(limit);
        sendJson(res, 200, { versions: versions.map((v) => ({ ...v, publishedAt: iso(v.publishedAt) })) });
      },
    },
    {
      name: 'settings.get', method: 'GET', path: /^\/admin\/api\/settings\/?$/,
      handle: async ({ res }) => sendJson(res, 200, await stagedSettings(store, deps.config)),
    },
    {
      name: 'settings.update', method: 'PUT', path: /^\/admin\/api\/settings\/?$/, write: true,
      handle: async ({ res, actor, body }) => {
        const input = objectBody(await body());
        const merged = await storeCall(async () => mergeSettings(await stagedSettings(store, deps.config), input));
        await store.settings.put(SETTINGS.runtime, merged as unknown as Record<string, unknown>, actor.name);
        await store.audit?.append({ actor: actor.name, action: 'settings.updated', target: 'runtime', details: { changed: input } });
        await publisher.markStaged(actor.name, 'settings updated');
        sendJson(res, 200, merged);
      },
    },
    {
      name: 'audit.list', method: 'GET', path: /^\/admin\/api\/audit\/?$/,
      handle: async ({ res, url }) => {
        const limit = intParam(url, 'limit', 100, 1000);
        const before = intParam(url, 'before', undefined, Number.MAX_SAFE_INTEGER);
        const entries = (await store.audit?.list({ ...(limit !== undefined ? { limit } : {}), ...(before !== undefined ? { before } : {}) })) ?? [];
        sendJson(res, 200, { entries: entries.map((e) => ({ ...e, at: iso(e.at) })) });
      },
    },
  ];
}
