// Console API for OIDC clients: list, read, register (the secret is shown once), change, remove. Changes are
// staged: engines see them after the next publish. Every change is audit-logged, never with a secret.
import type { ClientRecord, DurableStore, NewClient } from '../store/types.js';
import { notFound } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { ConfigPublisher } from '../runtime/publisher.js';
import { objectBody, pathParam, storeCall, type AdminRouteSpec } from './route.js';
import { onlyFields, optBool, optString, optStrings } from './fields.js';

export interface ClientsApiDeps { store: DurableStore; publisher: ConfigPublisher }

const CLIENT_PATH = /^\/admin\/api\/clients\/([^/]{1,256})\/?$/;
const EDITABLE = ['name', 'redirectUris', 'postLogoutRedirectUris', 'backchannelLogoutUri', 'grantTypes'] as const;

/** A client as the API shows it: everything but the secret hash. */
export function clientView(c: ClientRecord) {
  const { secretHash: _hidden, ...rest } = c;
  return { ...rest, createdAt: new Date(c.createdAt).toISOString() };
}

function changesOf(body: Record<string, unknown>) {
  return {
    ...(optString(body, 'name', 200) !== undefined ? { name: optString(body, 'name', 200) } : {}),
    ...(optStrings(body, 'redirectUris') ? { redirectUris: optStrings(body, 'redirectUris') } : {}),
    ...(optStrings(body, 'postLogoutRedirectUris') ? { postLogoutRedirectUris: optStrings(body, 'postLogoutRedirectUris') } : {}),
    ...(optString(body, 'backchannelLogoutUri') !== undefined ? { backchannelLogoutUri: optString(body, 'backchannelLogoutUri') } : {}),
    ...(optStrings(body, 'grantTypes', 10) ? { grantTypes: optStrings(body, 'grantTypes', 10) } : {}),
  };
}

export function clientsApi(deps: ClientsApiDeps): AdminRouteSpec[] {
  const { store, publisher } = deps;
  const find = async (raw: string | undefined) => {
    const id = pathParam(raw, 'client id');
    const client = await store.clients.get(id);
    if (!client) throw notFound(`No client '${id}'.`);
    return client;
  };
  return [
    {
      name: 'clients.list', method: 'GET', path: /^\/admin\/api\/clients\/?$/,
      handle: async ({ res }) => sendJson(res, 200, { clients: (await store.clients.list()).map(clientView) }),
    },
    {
      name: 'clients.get', method: 'GET', path: CLIENT_PATH,
      handle: async ({ res, params }) => sendJson(res, 200, clientView(await find(params[0]))),
    },
    {
      name: 'clients.create', method: 'POST', path: /^\/admin\/api\/clients\/?$/, write: true,
      handle: async ({ res, actor, body }) => {
        const input = objectBody(await body());
        onlyFields(input, ['clientId', 'public', ...EDITABLE]);
        const clientId = optString(input, 'clientId', 128);
        const isPublic = optBool(input, 'public');
        const request = { ...changesOf(input), ...(clientId ? { clientId } : {}), ...(isPublic !== undefined ? { public: isPublic } : {}),
          redirectUris: optStrings(input, 'redirectUris') ?? [] } as NewClient;
        const { client, secret } = await storeCall(() => store.clients.create(request));
        await store.audit?.append({ actor: actor.name, action: 'client.created', target: client.clientId, details: { redirectUris: client.redirectUris, public: client.public } });
        await publisher.markStaged(actor.name, `client ${client.clientId} created`);
        sendJson(res, 201, { client: clientView(client), ...(secret ? { secret } : {}) });
      },
    },
    {
      name: 'clients.update', method: 'PUT', path: CLIENT_PATH, write: true,
      handle: async ({ res, actor, params, body }) => {
        const current = await find(params[0]);
        const input = objectBody(await body());
        onlyFields(input, EDITABLE);
        const changes = changesOf(input);
        const updated = await storeCall(() => store.clients.update(current.clientId, changes));
        await store.audit?.append({ actor: actor.name, action: 'client.updated', target: current.clientId, details: { changed: Object.keys(changes), ...changes } });
        await publisher.markStaged(actor.name, `client ${current.clientId} updated`);
        sendJson(res, 200, clientView(updated));
      },
    },
    {
      name: 'clients.remove', method: 'DELETE', path: CLIENT_PATH, write: true,
      handle: async ({ res, actor, params }) => {
        const current = await find(params[0]);
        await storeCall(() => store.clients.remove(current.clientId));
        await store.audit?.append({ actor: actor.name, action: 'client.removed', target: current.clientId });
        await publisher.markStaged(actor.name, `client ${current.clientId} removed`);
        sendJson(res, 200, { removed: current.clientId });
      },
    },
  ];
}
