// `cohort clients add|list|remove`: OpenID Connect clients (relying parties) in the durable store.
// A confidential client's secret is printed once by `add`; the store keeps only its SHA-256, which is never printed.
import type { ClientRecord } from '../../store/index.js';
import { CliError, parse, resolveDataDir, type CliIO, type Command, commandOfSubcommands } from '../command.js';
import { formatTable, isoTime, openCliStore, withStore, type StoreOpener } from './users-store.js';

const HELP = `Usage: cohort clients <subcommand> [options]

Register the OpenID Connect clients (relying parties) that may sign users in.

Subcommands:
  add --redirect-uri URI [options]   Register a client; prints its client_id and, for a confidential
                                     client, its client_secret. The secret is shown only this once.
      --redirect-uri URI             Where users return after sign-in (repeat for several). An absolute
                                     https URL without #fragment; http only for localhost or 127.0.0.1.
      --name N                       Name shown on the consent page.
      --public                       A public client (browser or native app): no secret, PKCE required.
      --post-logout-redirect-uri URI Where users may go after signing out (repeat; same rule).
      --backchannel-logout-uri URI   Where Cohort posts logout tokens (same rule).
      --client-id ID                 Choose the client_id (letters, digits . _ ~ -); default: random.
      --json                         Print {"client_id": ..., "client_secret": ...} instead of text.
  list [--json]                      List clients (never their secrets).
  remove CLIENT_ID                   Delete a client.

Options of every subcommand:
  --data-dir DIR                     Data directory (default: $COHORT_DATA_DIR, else ./cohort-data).
  -h, --help                         Show this help.

Examples:
  cohort clients add --name "Wiki" --redirect-uri https://wiki.example.com/oidc/callback
  cohort clients add --public --redirect-uri http://localhost:5173/callback --json

Exit status: 0 on success, 1 when the operation failed (client_id taken, no such client, database
unavailable), 2 for invalid usage or input.
`;

export interface ClientsCommandDeps {
  /** @default openCliStore (the data directory's cohort.db) */
  openStore?: StoreOpener;
}

type Handler = (argv: string[], io: CliIO) => Promise<number>;

const DATA_DIR = { 'data-dir': { type: 'string' } } as const;

function noPositionals(positionals: string[], sub: string): void {
  if (positionals.length > 0) throw new CliError(`${sub}: unexpected argument '${positionals[0]}'`);
}

/** OIDC registration names (RFC 7591), as `add --json` prints them; no secret or secret hash. */
function clientJson(c: ClientRecord) {
  return {
    client_id: c.clientId,
    ...(c.name === undefined ? {} : { client_name: c.name }),
    public: c.public,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    ...(c.backchannelLogoutUri === undefined ? {} : { backchannel_logout_uri: c.backchannelLogoutUri }),
    grant_types: c.grantTypes,
    created_at: isoTime(c.createdAt),
  };
}

function clientTable(clients: ClientRecord[]): string {
  return formatTable(['CLIENT_ID', 'NAME', 'TYPE', 'GRANT TYPES', 'REDIRECT URIS'], clients.map((c) => [
    c.clientId, c.name ?? '', c.public ? 'public' : 'confidential', c.grantTypes.join(','), c.redirectUris.join(' '),
  ]));
}

export function createClientsCommand(deps: ClientsCommandDeps = {}): Command {
  const open = deps.openStore ?? openCliStore;
  const inStore = (io: CliIO, dataDir: string | undefined, create: boolean, body: Parameters<typeof withStore>[5]) =>
    withStore(io, 'clients', open, resolveDataDir(dataDir, io.env), { mustExist: !create }, body);

  const add: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, {
      ...DATA_DIR,
      'redirect-uri': { type: 'string', multiple: true },
      name: { type: 'string' },
      public: { type: 'boolean' },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      'client-id': { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals, 'add');
    const redirectUris = values['redirect-uri'] ?? [];
    if (redirectUris.length === 0) throw new CliError('add: --redirect-uri is required (repeat it for several URIs)');
    return inStore(io, values['data-dir'], true, async (store) => {
      const { client, secret } = await store.clients.create({
        clientId: values['client-id'], name: values.name, public: values.public === true, redirectUris,
        postLogoutRedirectUris: values['post-logout-redirect-uri'], backchannelLogoutUri: values['backchannel-logout-uri'],
      });
      if (values.json) {
        io.stdout.write(`${JSON.stringify(secret === undefined
          ? { client_id: client.clientId }
          : { client_id: client.clientId, client_secret: secret })}\n`);
      } else {
        io.stdout.write(`client_id:     ${client.clientId}\n`);
        if (secret !== undefined) io.stdout.write(`client_secret: ${secret}\n`);
      }
      io.stderr.write(secret === undefined
        ? 'Public client: it has no secret and must use PKCE.\n'
        : 'Store the client secret now: it is shown only once and cannot be recovered.\n');
      return 0;
    });
  };

  const list: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, { ...DATA_DIR, json: { type: 'boolean' } });
    noPositionals(positionals, 'list');
    return inStore(io, values['data-dir'], false, async (store) => {
      const clients = await store.clients.list();
      if (values.json) io.stdout.write(`${JSON.stringify(clients.map(clientJson), null, 2)}\n`);
      else io.stdout.write(clients.length === 0 ? 'No clients.\n' : clientTable(clients));
      return 0;
    });
  };

  const remove: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, DATA_DIR);
    if (positionals.length !== 1) {
      throw new CliError(positionals.length === 0 ? 'remove: missing CLIENT_ID' : `remove: unexpected argument '${positionals[1]}'`);
    }
    const clientId = positionals[0]!;
    return inStore(io, values['data-dir'], false, async (store) => {
      await store.clients.remove(clientId);
      io.stdout.write(`Client ${clientId} removed.\n`);
      return 0;
    });
  };

  const subcommands = new Map<string, Handler>([['add', add], ['list', list], ['remove', remove]]);

  return commandOfSubcommands({ name: 'clients', summary: 'Register, list and remove OpenID Connect clients', help: HELP, subcommands });
}

export const clientsCommand = createClientsCommand();
