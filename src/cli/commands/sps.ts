// `cohort sps add|list|remove`: SAML 2.0 service providers, registered from their metadata (a file or an https URL).
import { readFile } from 'node:fs/promises';
import type { NewServiceProvider, ServiceProviderRecord } from '../../store/types.js';
import { fetchMetadata, serviceProviderFromMetadata, type RegistrationOptions } from '../../protocols/saml/registration.js';
import { CliError, parse, resolveDataDir, type CliIO, type Command, commandOfSubcommands } from '../command.js';
import { formatTable, isoTime, openCliStore, splitList, withStore, type StoreOpener } from './users-store.js';

const HELP = `Usage: cohort sps <subcommand> [options]

Register the SAML 2.0 service providers users may sign in to. Cohort's own metadata, for the
service provider's side, is served at <issuer>/saml/metadata.

Subcommands:
  add (--metadata FILE | --metadata-url URL) [options]
                                     Register a service provider from its metadata.
      --metadata FILE                The SP's metadata XML (EntityDescriptor with an SPSSODescriptor).
      --metadata-url URL             Download it instead (https only; private addresses refused).
      --name N                       Display name.
      --nameid-format F              persistent (default unless the metadata prefers another),
                                     transient, emailAddress or unspecified (the username).
      --attributes LIST              Attributes released, comma-separated, from: username, email,
                                     displayName, groups, roles (default: all but roles).
      --no-sign-response             Do not sign the Response (the assertion is then signed).
      --sign-assertion               Sign the assertion too (default when the SP wants it or
                                     the assertion is encrypted).
      --encrypt aes256-gcm|aes256-cbc
                                     Encrypt the assertion to the SP's encryption certificate.
      --require-signed-requests      Refuse unsigned AuthnRequests and LogoutRequests (default:
                                     what the metadata's AuthnRequestsSigned says).
      --allow-sha1                   Accept RSA-SHA1 signatures from this SP (Shibboleth SP 3's default).
      --replace                      Update an already registered entityID instead of failing.
      --json                         Print the registration as JSON.
  list [--json]                      List service providers.
  remove ENTITY_ID                   Delete a service provider.

Options of every subcommand:
  --data-dir DIR                     Data directory (default: $COHORT_DATA_DIR, else ./cohort-data).
  -h, --help                         Show this help.

Examples:
  cohort sps add --metadata wiki-sp.xml --name Wiki
  cohort sps add --metadata-url https://crm.example.com/Shibboleth.sso/Metadata --allow-sha1

Exit status: 0 on success, 1 when the operation failed (entityID taken, no such SP, database
unavailable), 2 for invalid usage or input (unreadable or invalid metadata).
`;

export interface SpsCommandDeps {
  openStore?: StoreOpener;
}

type Handler = (argv: string[], io: CliIO) => Promise<number>;
const DATA_DIR = { 'data-dir': { type: 'string' } } as const;
const FORMATS = ['persistent', 'transient', 'emailAddress', 'unspecified'] as const;
const ENCRYPTION = ['aes256-gcm', 'aes256-cbc'] as const;

function spJson(sp: ServiceProviderRecord) {
  const { metadataXml: _metadata, signingCertificates, encryptionCertificates, ...rest } = sp;
  return { ...rest, signingCertificates: signingCertificates.length, encryptionCertificates: encryptionCertificates.length, createdAt: isoTime(sp.createdAt) };
}

function spTable(sps: ServiceProviderRecord[]): string {
  return formatTable(['ENTITY_ID', 'NAME', 'NAMEID', 'SIGNED', 'ENCRYPTED', 'ACS'], sps.map((sp) => [
    sp.entityId, sp.name ?? '', sp.nameIdFormat,
    [sp.signResponse ? 'response' : '', sp.signAssertion ? 'assertion' : ''].filter(Boolean).join('+'),
    sp.encryptAssertion, sp.assertionConsumerServices.map((a) => `${a.binding}:${a.location}`).join(' '),
  ]));
}

async function readMetadata(file: string | undefined, url: string | undefined): Promise<string> {
  if ((file === undefined) === (url === undefined)) throw new CliError('add: give exactly one of --metadata FILE or --metadata-url URL');
  if (file !== undefined) {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`add: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  try {
    return await fetchMetadata(url!);
  } catch (err) {
    throw new CliError(`add: ${(err as Error).message}`);
  }
}

function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function createSpsCommand(deps: SpsCommandDeps = {}): Command {
  const open = deps.openStore ?? openCliStore;
  const inStore = (io: CliIO, dataDir: string | undefined, create: boolean, body: Parameters<typeof withStore>[5]) =>
    withStore(io, 'sps', open, resolveDataDir(dataDir, io.env), { mustExist: !create }, body);

  const add: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, {
      ...DATA_DIR,
      metadata: { type: 'string' }, 'metadata-url': { type: 'string' }, name: { type: 'string' },
      'nameid-format': { type: 'string' }, attributes: { type: 'string' }, 'no-sign-response': { type: 'boolean' },
      'sign-assertion': { type: 'boolean' }, encrypt: { type: 'string' }, 'require-signed-requests': { type: 'boolean' },
      'allow-sha1': { type: 'boolean' }, replace: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new CliError(`add: unexpected argument '${positionals[0]}'`);
    const options: RegistrationOptions = {
      ...(values.name === undefined ? {} : { name: values.name }),
      ...(values['nameid-format'] === undefined ? {} : { nameIdFormat: choice('nameid-format', values['nameid-format'], FORMATS)! }),
      ...(values.attributes === undefined ? {} : { attributes: splitList(values.attributes) ?? [] }),
      ...(values['no-sign-response'] ? { signResponse: false, signAssertion: true } : {}),
      ...(values['sign-assertion'] ? { signAssertion: true } : {}),
      ...(values.encrypt === undefined ? {} : { encryptAssertion: choice('encrypt', values.encrypt, ENCRYPTION)! }),
      ...(values['require-signed-requests'] ? { requireSignedRequests: true } : {}),
      ...(values['allow-sha1'] ? { allowSha1: true } : {}),
    };
    const metadataXml = await readMetadata(values.metadata, values['metadata-url']);
    let registration: NewServiceProvider;
    try {
      registration = serviceProviderFromMetadata(metadataXml, options);
    } catch (err) {
      throw new CliError(`add: ${(err as Error).message}`);
    }
    return inStore(io, values['data-dir'], true, async (store) => {
      const exists = await store.serviceProviders.get(registration.entityId);
      if (exists && !values.replace) {
        io.stderr.write(`cohort sps: service provider '${registration.entityId}' is already registered (use --replace to update it)\n`);
        return 1;
      }
      const sp = exists ? await store.serviceProviders.update(registration) : await store.serviceProviders.create(registration);
      await store.audit?.append({ actor: 'cli', action: exists ? 'service_provider.updated' : 'service_provider.created', target: sp.entityId });
      if (values.json) io.stdout.write(`${JSON.stringify(spJson(sp), null, 2)}\n`);
      else io.stdout.write(`${exists ? 'Updated' : 'Registered'} ${sp.entityId} (NameID ${sp.nameIdFormat}; releases ${sp.attributes.join(', ') || 'no attributes'}).\n`);
      return 0;
    });
  };

  const list: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, { ...DATA_DIR, json: { type: 'boolean' } });
    if (positionals.length > 0) throw new CliError(`list: unexpected argument '${positionals[0]}'`);
    return inStore(io, values['data-dir'], false, async (store) => {
      const sps = await store.serviceProviders.list();
      if (values.json) io.stdout.write(`${JSON.stringify(sps.map(spJson), null, 2)}\n`);
      else io.stdout.write(sps.length === 0 ? 'No service providers.\n' : spTable(sps));
      return 0;
    });
  };

  const remove: Handler = async (argv, io) => {
    const { values, positionals } = parse(argv, DATA_DIR);
    if (positionals.length !== 1) {
      throw new CliError(positionals.length === 0 ? 'remove: missing ENTITY_ID' : `remove: unexpected argument '${positionals[1]}'`);
    }
    const entityId = positionals[0]!;
    return inStore(io, values['data-dir'], false, async (store) => {
      await store.serviceProviders.remove(entityId);
      await store.audit?.append({ actor: 'cli', action: 'service_provider.removed', target: entityId });
      io.stdout.write(`Service provider ${entityId} removed.\n`);
      return 0;
    });
  };

  const subcommands = new Map<string, Handler>([['add', add], ['list', list], ['remove', remove]]);
  return commandOfSubcommands({ name: 'sps', summary: 'Register, list and remove SAML service providers', help: HELP, subcommands });
}

export const spsCommand = createSpsCommand();
