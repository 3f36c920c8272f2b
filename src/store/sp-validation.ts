// Validation of a service provider before it is stored: both backends keep the record as one JSON document, so
// this is the only place its shape is checked. Bad input is a StoreError('INVALID') naming the field.
import { StoreError, type NewServiceProvider, type SamlBinding, type SamlEndpoint } from './types.js';
import { validateLabel } from './validation.js';

const BINDINGS: readonly SamlBinding[] = ['HTTP-Redirect', 'HTTP-POST', 'HTTP-Artifact', 'SOAP'];
const NAME_ID_FORMATS = ['persistent', 'transient', 'emailAddress', 'unspecified'] as const;
const ENCRYPTION = ['none', 'aes256-gcm', 'aes256-cbc'] as const;
/** What can be released: the user attributes Cohort knows. */
export const RELEASABLE_ATTRIBUTES = ['username', 'email', 'displayName', 'groups', 'roles'] as const;
const MAX_METADATA_BYTES = 256 * 1024;
const MAX_ENDPOINTS = 32;
const PEM = /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n?$/;

const invalid = (message: string) => new StoreError('INVALID', message);

function validateEntityId(entityId: unknown): string {
  if (typeof entityId !== 'string' || entityId.length === 0 || entityId.length > 1024 || /[\s<>"]/.test(entityId)) {
    throw invalid('entityId must be 1 to 1024 characters with no spaces, quotes or angle brackets');
  }
  return entityId;
}

function validateLocation(field: string, location: unknown): string {
  let url: URL;
  try {
    url = new URL(String(location));
  } catch {
    throw invalid(`${field} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${field} must be an http(s) URL`);
  if (url.hash) throw invalid(`${field} must not have a fragment`);
  return String(location);
}

function validateEndpoints(field: string, endpoints: unknown): SamlEndpoint[] {
  if (!Array.isArray(endpoints) || endpoints.length > MAX_ENDPOINTS) throw invalid(`${field} must be a list of at most ${MAX_ENDPOINTS}`);
  return endpoints.map((e: SamlEndpoint, i) => {
    if (!BINDINGS.includes(e?.binding)) throw invalid(`${field}[${i}].binding must be one of ${BINDINGS.join(', ')}`);
    if (e.index !== undefined && (!Number.isInteger(e.index) || e.index < 0 || e.index > 65_535)) {
      throw invalid(`${field}[${i}].index must be an integer 0-65535`);
    }
    return {
      binding: e.binding,
      location: validateLocation(`${field}[${i}].location`, e.location),
      ...(e.index === undefined ? {} : { index: e.index }),
      ...(e.isDefault ? { isDefault: true } : {}),
      ...(e.responseLocation ? { responseLocation: validateLocation(`${field}[${i}].responseLocation`, e.responseLocation) } : {}),
    };
  });
}

function validateCerts(field: string, certs: unknown): string[] {
  if (!Array.isArray(certs) || certs.length > 8) throw invalid(`${field} must be a list of at most 8 PEM certificates`);
  for (const cert of certs) if (typeof cert !== 'string' || !PEM.test(cert)) throw invalid(`${field} must hold PEM certificates`);
  return certs as string[];
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalid(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function validateServiceProvider(sp: NewServiceProvider): NewServiceProvider {
  if (typeof sp !== 'object' || sp === null) throw invalid('a service provider must be an object');
  if (typeof sp.metadataXml !== 'string' || sp.metadataXml.length === 0 || Buffer.byteLength(sp.metadataXml) > MAX_METADATA_BYTES) {
    throw invalid(`metadataXml must be 1 byte to ${MAX_METADATA_BYTES / 1024} KiB`);
  }
  const acs = validateEndpoints('assertionConsumerServices', sp.assertionConsumerServices);
  if (acs.length === 0) throw invalid('a service provider needs at least one AssertionConsumerService');
  const attributes = Array.isArray(sp.attributes) ? sp.attributes : [];
  for (const a of attributes) oneOf('attributes', a, RELEASABLE_ATTRIBUTES);
  const encryptAssertion = oneOf('encryptAssertion', sp.encryptAssertion, ENCRYPTION);
  const encryptionCertificates = validateCerts('encryptionCertificates', sp.encryptionCertificates);
  if (encryptAssertion !== 'none' && encryptionCertificates.length === 0) {
    throw invalid('encryptAssertion needs an encryption certificate in the metadata');
  }
  const signingCertificates = validateCerts('signingCertificates', sp.signingCertificates);
  if (sp.requireSignedRequests && signingCertificates.length === 0) {
    throw invalid('requireSignedRequests needs a signing certificate in the metadata');
  }
  // An unsigned response is a forgeable one: at least one of the two signatures is always made.
  if (!sp.signResponse && !sp.signAssertion) throw invalid('signResponse or signAssertion must be on');
  const name = validateLabel('name', sp.name);
  return {
    entityId: validateEntityId(sp.entityId),
    ...(name === undefined ? {} : { name }),
    metadataXml: sp.metadataXml,
    assertionConsumerServices: acs,
    singleLogoutServices: validateEndpoints('singleLogoutServices', sp.singleLogoutServices ?? []),
    signingCertificates,
    encryptionCertificates,
    requireSignedRequests: Boolean(sp.requireSignedRequests),
    allowSha1: Boolean(sp.allowSha1),
    nameIdFormat: oneOf('nameIdFormat', sp.nameIdFormat, NAME_ID_FORMATS),
    attributes: [...new Set(attributes)],
    signResponse: Boolean(sp.signResponse),
    signAssertion: Boolean(sp.signAssertion),
    encryptAssertion,
  };
}
