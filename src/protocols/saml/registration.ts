// Turning a service provider's metadata into a registration: what the metadata says (endpoints, certificates,
// AuthnRequestsSigned) plus the IdP-side policy an administrator chooses. Used by `cohort sps` and the admin API.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { NewServiceProvider } from '../../store/types.js';
import { validateServiceProvider } from '../../store/sp-validation.js';
import { parseSpMetadata } from './metadata.js';
import { FORMAT } from './nameid.js';
import { SamlError } from './errors.js';

export type RegistrationOptions = Partial<Pick<NewServiceProvider,
  'name' | 'nameIdFormat' | 'attributes' | 'signResponse' | 'signAssertion' | 'encryptAssertion' | 'requireSignedRequests' | 'allowSha1'>>;

const MAX_METADATA_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/** The SP's preferred NameID format when it names one Cohort supports; persistent otherwise (Shibboleth's default). */
function preferredFormat(formats: string[]): NewServiceProvider['nameIdFormat'] {
  for (const uri of formats) {
    const match = (Object.entries(FORMAT) as Array<[NewServiceProvider['nameIdFormat'], string]>).find(([, u]) => u === uri);
    if (match) return match[0];
  }
  return 'persistent';
}

/**
 * A validated registration. Signing defaults follow what SPs expect: the response is signed always and the
 * assertion when the SP asks (WantAssertionsSigned) or when it is encrypted (the signature then travels inside).
 */
export function serviceProviderFromMetadata(metadataXml: string, options: RegistrationOptions = {}): NewServiceProvider {
  const parsed = parseSpMetadata(metadataXml);
  const encryptAssertion = options.encryptAssertion ?? 'none';
  const candidate: NewServiceProvider = {
    entityId: parsed.entityId,
    ...(options.name === undefined ? {} : { name: options.name }),
    metadataXml,
    assertionConsumerServices: parsed.assertionConsumerServices,
    singleLogoutServices: parsed.singleLogoutServices,
    signingCertificates: parsed.signingCertificates,
    encryptionCertificates: parsed.encryptionCertificates,
    requireSignedRequests: options.requireSignedRequests ?? parsed.requireSignedRequests,
    allowSha1: options.allowSha1 ?? false,
    nameIdFormat: options.nameIdFormat ?? preferredFormat(parsed.nameIdFormats),
    attributes: options.attributes ?? ['username', 'email', 'displayName', 'groups'],
    signResponse: options.signResponse ?? true,
    signAssertion: options.signAssertion ?? (parsed.wantAssertionsSigned || encryptAssertion !== 'none'),
    encryptAssertion,
  };
  try {
    return validateServiceProvider(candidate);
  } catch (err) {
    throw new SamlError(400, 'SP_INVALID', (err as Error).message);
  }
}

/**
 * Downloads metadata from the SP's URL: https only (plain http lets anyone on the path substitute the keys), bounded
 * in size and time. Loopback and private addresses are refused unless allowed, as for any server-side fetch.
 */
export async function fetchMetadata(url: string, options: { allowPrivate?: boolean; allowHttp?: boolean } = {}): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new SamlError(400, 'METADATA_URL', `'${url}' is not an absolute URL.`);
  }
  if (target.protocol !== 'https:' && !(options.allowHttp && target.protocol === 'http:')) {
    throw new SamlError(400, 'METADATA_URL', 'Metadata must be fetched over https.');
  }
  if (!options.allowPrivate) await assertPublicHost(url);
  const response = await fetch(target, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!response.ok) throw new SamlError(502, 'METADATA_FETCH', `Fetching metadata failed: HTTP ${response.status}.`);
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAX_METADATA_BYTES) throw new SamlError(413, 'METADATA_TOO_LARGE', `Metadata is larger than ${MAX_METADATA_BYTES / 1024} KiB.`);
  return body.toString('utf8');
}

/** Refuses URLs whose host is (or resolves to) a loopback or private address: server-side requests must not reach in. */
export async function assertPublicHost(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.some(isPrivateAddress)) {
    throw new SamlError(400, 'PRIVATE_ADDRESS', `${host} is a private or loopback address.`);
  }
}

function isPrivateAddress(address: string): boolean {
  if (address.includes(':')) return /^(::1$|fc|fd|fe80|::ffff:(127|10|192\.168|172\.(1[6-9]|2\d|3[01]))\.)/i.test(address);
  return /^(127|10|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2\d|3[01])\./.test(address);
}
