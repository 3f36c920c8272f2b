// SAML metadata: the IdP's own EntityDescriptor, and the reading of an SP's metadata into a registration record.
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import type { NewServiceProvider, SamlEndpoint } from '../../store/types.js';
import { SamlError } from './errors.js';
import { BINDING_URI, bindingFromUri } from './messages.js';
import { FORMAT } from './nameid.js';
import { NS, attr, childElements, escapeAttr as a, escapeXml as x, parseXml, textOf } from './xml.js';

const SAML2_PROTOCOL = NS.samlp;
const MAX_METADATA_BYTES = 1024 * 1024;

/** The base64 body of a PEM certificate, as X509Certificate elements carry it. */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export function idpMetadata(opts: {
  entityId: string;
  baseUrl: string;
  signingCert: string;
  /** Certificates of keys that will sign next (published ahead of a rollover, so SPs can trust them in advance). */
  nextSigningCerts?: string[];
  artifactEndpoints: Array<{ index: number; location: string }>;
  nameIdFormats?: string[];
  validUntil?: Date;
}): string {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const validUntil = opts.validUntil ? ` validUntil="${opts.validUntil.toISOString()}"` : '';
  const formats = opts.nameIdFormats ?? Object.values(FORMAT);
  const service = (kind: string, binding: string, location: string, extra = '') =>
    `<md:${kind} Binding="${binding}" Location="${a(location)}"${extra}/>`;
  return (
    `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" entityID="${a(opts.entityId)}"${validUntil}>` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML2_PROTOCOL}">` +
    [opts.signingCert, ...(opts.nextSigningCerts ?? [])].map((cert) =>
      '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>' +
      pemBody(cert) +
      '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>').join('') +
    opts.artifactEndpoints
      .map((e, i) => service('ArtifactResolutionService', BINDING_URI.SOAP, e.location, ` index="${e.index}"${i === 0 ? ' isDefault="true"' : ''}`))
      .join('') +
    service('SingleLogoutService', BINDING_URI['HTTP-Redirect'], `${base}/saml/slo`) +
    service('SingleLogoutService', BINDING_URI['HTTP-POST'], `${base}/saml/slo`) +
    service('SingleLogoutService', BINDING_URI.SOAP, `${base}/saml/slo/soap`) +
    formats.map((f) => `<md:NameIDFormat>${x(f)}</md:NameIDFormat>`).join('') +
    service('SingleSignOnService', BINDING_URI['HTTP-Redirect'], `${base}/saml/sso`) +
    service('SingleSignOnService', BINDING_URI['HTTP-POST'], `${base}/saml/sso`) +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

export type ParsedSpMetadata = Omit<
  NewServiceProvider,
  'name' | 'allowSha1' | 'nameIdFormat' | 'attributes' | 'signResponse' | 'signAssertion' | 'encryptAssertion'
> & { nameIdFormats: string[]; wantAssertionsSigned: boolean };

export function parseSpMetadata(xml: string): ParsedSpMetadata {
  const root = parseXml(xml, { maxBytes: MAX_METADATA_BYTES }).documentElement!;
  const entity = findSpEntity(root);
  const entityId = attr(entity, 'entityID') ?? '';
  if (entityId === '' || entityId.length > 1024) throw invalid('The metadata has no valid entityID.');
  const sso = childElements(entity, NS.md, 'SPSSODescriptor').find((d) =>
    (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL),
  );
  if (!sso) throw invalid('The metadata has no SPSSODescriptor supporting SAML 2.0.');

  const acs = endpoints(sso, 'AssertionConsumerService', true);
  if (!acs.some((e) => e.binding === 'HTTP-POST' || e.binding === 'HTTP-Artifact')) {
    throw invalid('The metadata has no AssertionConsumerService with the HTTP-POST or HTTP-Artifact binding.');
  }
  const signing: string[] = [];
  const encryption: string[] = [];
  for (const descriptor of childElements(sso, NS.md, 'KeyDescriptor')) {
    const use = attr(descriptor, 'use');
    if (use !== undefined && use !== 'signing' && use !== 'encryption') throw invalid(`KeyDescriptor use "${use}" is not valid.`);
    for (const pem of certificatesIn(descriptor)) {
      if (use !== 'encryption' && !signing.includes(pem)) signing.push(pem);
      if (use !== 'signing' && !encryption.includes(pem)) encryption.push(pem);
    }
  }
  return {
    entityId,
    metadataXml: xml,
    assertionConsumerServices: acs,
    singleLogoutServices: endpoints(sso, 'SingleLogoutService', false),
    signingCertificates: signing,
    encryptionCertificates: encryption,
    requireSignedRequests: attr(sso, 'AuthnRequestsSigned') === 'true' || attr(sso, 'AuthnRequestsSigned') === '1',
    nameIdFormats: childElements(sso, NS.md, 'NameIDFormat').map((el) => textOf(el).trim()).filter((f) => f !== ''),
    wantAssertionsSigned: attr(sso, 'WantAssertionsSigned') === 'true' || attr(sso, 'WantAssertionsSigned') === '1',
  };
}

/** The EntityDescriptor itself, or the single SP inside an EntitiesDescriptor (nested groups included). */
function findSpEntity(root: Element): Element {
  if (root.namespaceURI === NS.md && root.localName === 'EntityDescriptor') {
    if (childElements(root, NS.md, 'SPSSODescriptor').length === 0) throw invalid('The metadata has no SPSSODescriptor.');
    return root;
  }
  if (root.namespaceURI !== NS.md || root.localName !== 'EntitiesDescriptor') {
    throw invalid('The document is not SAML metadata (no EntityDescriptor).');
  }
  const found: Element[] = [];
  const walk = (group: Element): void => {
    for (const child of childElements(group, NS.md)) {
      if (child.localName === 'EntitiesDescriptor') walk(child);
      else if (child.localName === 'EntityDescriptor' && childElements(child, NS.md, 'SPSSODescriptor').length > 0) found.push(child);
    }
  };
  walk(root);
  if (found.length === 0) throw invalid('The metadata has no SPSSODescriptor.');
  if (found.length > 1) throw invalid(`The metadata describes ${found.length} service providers; register them one at a time.`);
  return found[0]!;
}

/** Endpoints with a binding this IdP speaks; others (PAOS, SAML 1 profiles) are skipped, not refused. */
function endpoints(sso: Element, kind: string, indexed: boolean): SamlEndpoint[] {
  const out: SamlEndpoint[] = [];
  for (const el of childElements(sso, NS.md, kind)) {
    const binding = bindingFromUri(attr(el, 'Binding') ?? '');
    if (!binding) continue;
    const endpoint: SamlEndpoint = { binding, location: httpUrl(attr(el, 'Location'), kind) };
    if (indexed) {
      const index = attr(el, 'index') ?? '';
      if (!/^\d{1,5}$/.test(index) || Number(index) > 0xffff) throw invalid(`A ${kind} has no valid index.`);
      endpoint.index = Number(index);
      if (out.some((e) => e.index === endpoint.index)) throw invalid(`Two ${kind} elements have index ${index}.`);
      const isDefault = attr(el, 'isDefault');
      if (isDefault === 'true' || isDefault === '1') endpoint.isDefault = true;
    }
    const responseLocation = attr(el, 'ResponseLocation');
    if (responseLocation !== undefined) endpoint.responseLocation = httpUrl(responseLocation, kind);
    out.push(endpoint);
  }
  return out;
}

function httpUrl(value: string | undefined, kind: string): string {
  let url: URL;
  try {
    url = new URL(value ?? '');
  } catch {
    throw invalid(`A ${kind} Location is not a URL: ${JSON.stringify(value ?? '')}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`A ${kind} Location is not an http(s) URL: ${value}.`);
  return value!;
}

function certificatesIn(descriptor: Element): string[] {
  const out: string[] = [];
  for (const keyInfo of childElements(descriptor, NS.ds, 'KeyInfo')) {
    for (const data of childElements(keyInfo, NS.ds, 'X509Data')) {
      for (const certEl of childElements(data, NS.ds, 'X509Certificate')) {
        const body = textOf(certEl).replace(/\s+/g, '');
        const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
        try {
          new X509Certificate(pem);
        } catch {
          throw invalid('A KeyDescriptor holds a certificate that cannot be read.');
        }
        out.push(pem);
      }
    }
  }
  return out;
}

function invalid(message: string): SamlError {
  return new SamlError(400, 'METADATA_INVALID', message);
}
