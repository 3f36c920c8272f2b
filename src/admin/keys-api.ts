// Console API for signing keys: list (never the material), rotate (a new RS256 key, staged: engines sign with it
// after the next publish, and keep publishing the older ones in JWKS until they are retired), retire.
import type { DurableStore, KeyRecord } from '../store/types.js';
import { generateSigningKey } from '../store/bootstrap.js';
import { badRequest, notFound } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { ConfigPublisher } from '../runtime/publisher.js';
import { objectBody, pathParam, storeCall, type AdminRouteSpec } from './route.js';
import { onlyFields } from './fields.js';

export interface KeysApiDeps { store: DurableStore; publisher: ConfigPublisher }

const keyView = (k: KeyRecord) => ({ kid: k.kid, use: k.use, alg: k.alg, createdAt: new Date(k.createdAt).toISOString(), retired: k.retired });

export function keysApi(deps: KeysApiDeps): AdminRouteSpec[] {
  const { store, publisher } = deps;
  const all = async () => [...await store.keys.list('sig'), ...await store.keys.list('cookie')];
  return [
    {
      name: 'keys.list', method: 'GET', path: /^\/admin\/api\/keys\/?$/,
      handle: async ({ res }) => sendJson(res, 200, { keys: (await all()).map(keyView) }),
    },
    {
      name: 'keys.rotate', method: 'POST', path: /^\/admin\/api\/keys\/rotate\/?$/, write: true,
      handle: async ({ res, actor, body }) => {
        const input = objectBody(await body());
        onlyFields(input, ['use']);
        if (input.use !== 'sig') throw badRequest("use: must be 'sig' (cookie keys rotate with a new data directory only)", 'ADMIN_INVALID');
        const key = generateSigningKey('RS256');
        await storeCall(() => store.keys.add(key));
        await store.audit?.append({ actor: actor.name, action: 'key.rotated', target: key.kid, details: { use: key.use, alg: key.alg } });
        await publisher.markStaged(actor.name, `signing key ${key.kid} added`);
        sendJson(res, 201, keyView(key));
      },
    },
    {
      name: 'keys.retire', method: 'POST', path: /^\/admin\/api\/keys\/([^/]{1,256})\/retire\/?$/, write: true,
      handle: async ({ res, actor, params }) => {
        const kid = pathParam(params[0], 'key id');
        const key = (await all()).find((k) => k.kid === kid);
        if (!key) throw notFound(`No key '${kid}'.`);
        if (!key.retired) {
          const live = (await store.keys.list(key.use)).filter((k) => !k.retired && k.alg === key.alg);
          if (live.length <= 1) throw badRequest(`Key '${kid}' is the last live ${key.alg} key; rotate first.`, 'ADMIN_LAST_KEY');
          await storeCall(() => store.keys.retire(kid));
          await store.audit?.append({ actor: actor.name, action: 'key.retired', target: kid, details: { use: key.use, alg: key.alg } });
          await publisher.markStaged(actor.name, `key ${kid} retired`);
        }
        sendJson(res, 200, keyView({ ...key, retired: true }));
      },
    },
  ];
}
