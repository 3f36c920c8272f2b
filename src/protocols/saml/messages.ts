// Parsing of the protocol messages an SP sends the IdP, freshness and destination checks, and (re-exported from
// builders.ts) the messages the IdP sends. Parsers take XML that was already verified when a signature is
// required: pass verifyXmlSignature's verifiedXml, never the original, so only signed content is read.
import type { Element } from '@xmldom/xmldom';
import type { SamlBinding } from '../../store/types.js';
import { SamlError, STATUS } from './errors.js';
import { NS, attr, childElements, firstChild, parseXml, textOf } from './xml.js';

export {
  buildArtifactResolve,
  buildArtifactResponse,
  buildAssertion,
  buildLogoutRequest,
  buildLogoutResponse,
  buildResponse,
  newId,
} from './builders.js';

export const BINDING_URI: Record<SamlBinding, string> = {
  'HTTP-Redirect': 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  'HTTP-POST': 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  'HTTP-Artifact': 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact',
  SOAP: 'urn:oasis:names:tc:SAML:2.0:bindings:SOAP',
};

export function bindingFromUri(uri: string): SamlBinding | undefined {
  return (Object.keys(BINDING_URI) as SamlBinding[]).find((b) => BINDING_URI[b] === uri);
}

export interface AuthnRequest {
  id: string;
  issuer: string;
  issueInstant: Date;
  destination?: string;
  acsUrl?: string;
  acsIndex?: number;
  protocolBinding?: SamlBinding;
  forceAuthn: boolean;
  isPassive: boolean;
  nameIdFormat?: string;
  allowCreate?: boolean;
}

export function parseAuthnRequest(xml: string): AuthnRequest {
  const root = protocolRoot(xml, 'AuthnRequest');
  const request: AuthnRequest = {
    ...common(root),
    forceAuthn: bool(root, 'ForceAuthn') ?? false,
    isPassive: bool(root, 'IsPassive') ?? false,
  };
  const acsUrl = attr(root, 'AssertionConsumerServiceURL');
  if (acsUrl !== undefined) request.acsUrl = acsUrl;
  const acsIndex = attr(root, 'AssertionConsumerServiceIndex');
  if (acsIndex !== undefined) {
    if (!/^\d{1,5}$/.test(acsIndex) || Number(acsIndex) > 0xffff) throw malformed('AssertionConsumerServiceIndex is not valid.');
    request.acsIndex = Number(acsIndex);
  }
  const bindingUri = attr(root, 'ProtocolBinding');
  if (bindingUri !== undefined) {
    const binding = bindingFromUri(bindingUri);
    if (binding !== 'HTTP-POST' && binding !== 'HTTP-Artifact') {
      throw new SamlError(400, 'UNSUPPORTED_BINDING', `Responses cannot be sent with ${bindingUri}.`, STATUS.unsupportedBinding);
    }
    request.protocolBinding = binding;
  }
  const policy = firstChild(root, NS.samlp, 'NameIDPolicy');
  if (policy) {
    const format = attr(policy, 'Format');
    if (format !== undefined) request.nameIdFormat = format;
    const allowCreate = bool(policy, 'AllowCreate');
    if (allowCreate !== undefined) request.allowCreate = allowCreate;
  }
  return request;
}

export interface LogoutRequest {
  id: string;
  issuer: string;
  issueInstant: Date;
  destination?: string;
  nameId: string;
  nameIdFormat?: string;
  sessionIndexes: string[];
  notOnOrAfter?: Date;
}

export function parseLogoutRequest(xml: string): LogoutRequest {
  const root = protocolRoot(xml, 'LogoutRequest');
  const nameIdEl = firstChild(root, NS.saml, 'NameID');
  if (!nameIdEl) {
    const encrypted = firstChild(root, NS.saml, 'EncryptedID') ?? firstChild(root, NS.saml, 'BaseID');
    throw malformed(encrypted ? 'Only a plain NameID is supported in LogoutRequest.' : 'The LogoutRequest has no NameID.');
  }
  const request: LogoutRequest = {
    ...common(root),
    nameId: textOf(nameIdEl).trim(),
    sessionIndexes: childElements(root, NS.samlp, 'SessionIndex').map((el) => textOf(el).trim()),
  };
  if (request.nameId === '') throw malformed('The LogoutRequest has an empty NameID.');
  const format = attr(nameIdEl, 'Format');
  if (format !== undefined) request.nameIdFormat = format;
  const notOnOrAfter = attr(root, 'NotOnOrAfter');
  if (notOnOrAfter !== undefined) request.notOnOrAfter = parseInstant(notOnOrAfter, 'NotOnOrAfter');
  return request;
}

export interface LogoutResponse {
  id: string;
  inResponseTo: string;
  issuer: string;
  /** The top-level StatusCode. */
  status: string;
  /** The second-level StatusCode, when present (e.g. PartialLogout). */
  subStatus?: string;
  destination?: string;
}

export function parseLogoutResponse(xml: string): LogoutResponse {
  const root = protocolRoot(xml, 'LogoutResponse');
  const { id, issuer, destination } = common(root);
  const inResponseTo = attr(root, 'InResponseTo');
  if (!inResponseTo) throw malformed('The LogoutResponse has no InResponseTo.');
  const statusEl = firstChild(root, NS.samlp, 'Status');
  const code = statusEl && firstChild(statusEl, NS.samlp, 'StatusCode');
  const status = code ? attr(code, 'Value') : undefined;
  if (!code || !status) throw malformed('The LogoutResponse has no StatusCode.');
  const response: LogoutResponse = { id, inResponseTo, issuer, status };
  const sub = firstChild(code, NS.samlp, 'StatusCode');
  const subStatus = sub ? attr(sub, 'Value') : undefined;
  if (subStatus !== undefined) response.subStatus = subStatus;
  if (destination !== undefined) response.destination = destination;
  return response;
}

export interface ArtifactResolve {
  id: string;
  issuer: string;
  artifact: string;
  issueInstant: Date;
  destination?: string;
}

/** Parses the ArtifactResolve itself (the element inside the SOAP Body, serialised). */
export function parseArtifactResolve(xml: string): ArtifactResolve {
  const root = protocolRoot(xml, 'ArtifactResolve');
  const artifactEl = firstChild(root, NS.samlp, 'Artifact');
  const artifact = artifactEl ? textOf(artifactEl).trim() : '';
  if (artifact === '') throw malformed('The ArtifactResolve has no Artifact.');
  return { ...common(root), artifact };
}

/** The root element's local name, to dispatch a message whose kind the endpoint does not fix. */
export function parseAnyRoot(xml: string): string {
  const root = parseXml(xml).documentElement!;
  if (root.namespaceURI !== NS.samlp) throw new SamlError(400, 'WRONG_ROOT', 'The message is not a SAML 2.0 protocol message.');
  return root.localName!;
}

export function checkFreshness(issueInstant: Date, now: number, skewMs: number, maxAgeMs: number): void {
  const at = issueInstant.getTime();
  if (at > now + skewMs) throw new SamlError(400, 'FUTURE_MESSAGE', 'The message was issued in the future; check the clocks.', STATUS.requester);
  if (at < now - maxAgeMs - skewMs) throw new SamlError(400, 'STALE_MESSAGE', 'The message is too old.', STATUS.requester);
}

export function checkDestination(destination: string | undefined, expected: string[], required: boolean): void {
  if (destination === undefined) {
    if (required) throw new SamlError(400, 'WRONG_DESTINATION', 'The signed message has no Destination.', STATUS.requester);
    return;
  }
  if (!expected.includes(destination)) {
    throw new SamlError(400, 'WRONG_DESTINATION', 'The message was sent to another endpoint.', STATUS.requester);
  }
}

/**
 * The Issuer of a protocol message whose root is one of `localNames`, read from one parse before the signature is
 * checked: only to find whose registered certificates to check it with. Nothing else is believed yet.
 */
export function messageIssuer(xml: string, localNames: readonly string[]): string {
  return common(checkedRoot(parseXml(xml).documentElement!, localNames)).issuer;
}

function protocolRoot(xml: string, localName: string): Element {
  return checkedRoot(parseXml(xml).documentElement!, [localName]);
}

function checkedRoot(root: Element, localNames: readonly string[]): Element {
  if (root.namespaceURI !== NS.samlp || !localNames.includes(root.localName ?? '')) {
    throw new SamlError(400, 'WRONG_ROOT', `Expected a ${localNames.join(' or ')}, got ${root.localName}.`);
  }
  if (attr(root, 'Version') !== '2.0') {
    throw new SamlError(400, 'VERSION_MISMATCH', 'Only SAML 2.0 is supported.', STATUS.versionMismatch);
  }
  return root;
}

function common(root: Element): { id: string; issuer: string; issueInstant: Date; destination?: string } {
  const id = attr(root, 'ID');
  if (!id) throw new SamlError(400, 'MISSING_ID', `The ${root.localName} has no ID.`);
  const issuerEl = firstChild(root, NS.saml, 'Issuer');
  const issuer = issuerEl ? textOf(issuerEl).trim() : '';
  if (issuer === '') throw new SamlError(400, 'MISSING_ISSUER', `The ${root.localName} has no Issuer.`);
  const instant = attr(root, 'IssueInstant');
  if (instant === undefined) throw malformed(`The ${root.localName} has no IssueInstant.`);
  const out: { id: string; issuer: string; issueInstant: Date; destination?: string } = {
    id,
    issuer,
    issueInstant: parseInstant(instant, 'IssueInstant'),
  };
  const destination = attr(root, 'Destination');
  if (destination !== undefined) out.destination = destination;
  return out;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

/** xs:dateTime; SAML requires UTC, but a missing zone is read as UTC rather than as local time. */
export function parseInstant(value: string, what: string): Date {
  const text = value.trim();
  if (!DATE_TIME.test(text)) throw malformed(`${what} is not a valid date and time.`);
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`;
  const date = new Date(withZone.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(date.getTime())) throw malformed(`${what} is not a valid date and time.`);
  return date;
}

function bool(el: Element, name: string): boolean | undefined {
  const value = attr(el, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw malformed(`${name} is not a boolean.`);
}

function malformed(message: string): SamlError {
  return new SamlError(400, 'MALFORMED_MESSAGE', message, STATUS.requester);
}
