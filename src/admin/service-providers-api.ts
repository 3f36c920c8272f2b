// Console API for SAML service providers: registered from their metadata (parsed by the SAML layer's
// serviceProviderFromMetadata) plus the IdP-side policy. Staged like every configuration change; audit-logged.
import type { DurableStore, NewServiceProvider, ServiceProviderRecord } from '../store/types.js';
import { serviceProviderFromMetadata } from '../protocols/saml/registration.js';
import { badRequest, notFound } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { ConfigPublisher } from '../runtime/publisher.js';
import { httpErrorOf, objectBody, pathParam, storeCall, type AdminRouteSpec } from './route.js';
import { onlyFields, optBool, optString, optStrings } from './fields.js';

export interface ServiceProvidersApiDeps { store: DurableStore; publisher: ConfigPublisher }

const SP_PATH = /^\/admin\/api\/service-providers\/([^/]{1,2048})\/?$/;
const FIELDS = ['metadataXml', 'name', 'nameIdFormat', 'attributes', 'signResponse', 'signAssertion', 'encryptAssertion',
  'requireSignedRequests', 'allowSha1'] as const;

const spView = (s: ServiceProviderRecord) => ({ ...s, createdAt: new Date(s.createdAt).toISOString() });

function fromBody(input: Record<string, unknown>): NewServiceProvider {
  onlyFields(input, FIELDS);
  const metadataXml = optString(input, 'metadataXml', 256 * 1024);
  if (!metadataXml) throw badRequest('metadataXml: is required (the service provider\'s SAML metadata)', 'ADMIN_INVALID');
  const options = {
    ...(optString(input, 'name', 200) !== undefined ? { name: optString(input, 'name', 200) } : {}),
    ...(optString(input, 'nameIdFormat', 32) !== undefined ? { nameIdFormat: optString(input, 'nameIdFormat', 32) } : {}),
    ...(optStrings(input, 'attributes', 20) ? { attributes: optStrings(input, 'attributes', 20) } : {}),
    ...(optString(input, 'encryptAssertion', 32) !== undefined ? { encryptAssertion: optString(input, 'encryptAssertion', 32) } : {}),
    ...Object.fromEntries((['signResponse', 'signAssertion', 'requireSignedRequests', 'allowSha1'] as const)
      .flatMap((f) => (optBool(input, f) !== undefined ? [[f, optBool(input, f)]] : []))),
  } as Parameters<typeof serviceProviderFromMetadata>[1];
  try {
    return serviceProviderFromMetadata(metadataXml, options);
  } catch (err) {
    const mapped = httpErrorOf(err);
    if (mapped !== err) throw mapped;
    throw badRequest(`metadataXml: ${(err as Error).message}`, 'ADMIN_INVALID');
  }
}

export function serviceProvidersApi(deps: ServiceProvidersApiDeps): AdminRouteSpec[] {
  const { store, publisher } = deps;
  const find = async (raw: string | undefined) => {
    const id = pathParam(raw, 'entity ID');
    const sp = await store.serviceProviders.get(id);
    if (!sp) throw notFound(`No service provider '${id}'.`);
    return sp;
  };
  return [
    {
      name: 'sps.list', method: 'GET', path: /^\/admin\/api\/service-providers\/?$/,
      handle: async ({ res }) => sendJson(res, 200, { serviceProviders: (await store.serviceProviders.list()).map(spView) }),
    },
    {
      name: 'sps.get', method: 'GET', path: SP_PATH,
      handle: async ({ res, params }) => sendJson(res, 200, spView(await find(params[0]))),
    },
    {
      name: 'sps.create', method: 'POST', path: /^\/admin\/api\/service-providers\/?$/, write: true,
      handle: async ({ res, actor, body }) => {
        const sp = fromBody(objectBody(await body()));
        const created = await storeCall(() => store.serviceProviders.create(sp));
        await store.audit?.append({ actor: actor.name, action: 'sp.created', target: created.entityId.slice(0, 256) });
        await publisher.markStaged(actor.name, 'service provider created');
        sendJson(res, 201, spView(created));
      },
    },
    {
      name: 'sps.update', method: 'PUT', path: SP_PATH, write: true,
      handle: async ({ res, actor, params, body }) => {
        const current = await find(params[0]);
        const sp = fromBody(objectBody(await body()));
        if (sp.entityId !== current.entityId) {
          throw badRequest(`metadataXml: its entityID '${sp.entityId}' is not the one in the path`, 'ADMIN_INVALID');
        }
        const updated = await storeCall(() => store.serviceProviders.update(sp));
        await store.audit?.append({ actor: actor.name, action: 'sp.updated', target: current.entityId.slice(0, 256) });
        await publisher.markStaged(actor.name, 'service provider updated');
        sendJson(res, 200, spView(updated));
      },
    },
    {
      name: 'sps.remove', method: 'DELETE', path: SP_PATH, write: true,
      handle: async ({ res, actor, params }) => {
        const current = await find(params[0]);
        await storeCall(() => store.serviceProviders.remove(current.entityId));
        await store.audit?.append({ actor: actor.name, action: 'sp.removed', target: current.entityId.slice(0, 256) });
        await publisher.markStaged(actor.name, 'service provider removed');
        sendJson(res, 200, { removed: current.entityId });
      },
    },
  ];
}
