// Web browser SSO (SAML profiles §4.1): AuthnRequests over HTTP-Redirect and HTTP-POST, IdP-initiated SSO, and the
// answer over HTTP-POST or HTTP-Artifact once the bridge (bridge.ts) knows who signed in.
// Order matters for safety: the SP is looked up from the Issuer, the signature is checked against that SP's
// registered certificates, and only then is anything else in the message (ACS URL, flags) believed.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject } from '../../state/types.js';
import type { SamlEndpoint, ServiceProviderRecord } from '../../store/types.js';
import { readForm } from '../../http/body.js';
import { createArtifact } from './artifact.js';
import { errorResponse, issueResponse, nameIdFormatFor } from './assertion.js';
import { decodePost, decodeRedirect, postFormHtml } from './bindings.js';
import { SamlBridge } from './bridge.js';
import { isSamlError, SamlError, STATUS } from './errors.js';
import { sealSessionIndex } from './idp-secrets.js';
import { checkDestination, checkFreshness, messageIssuer, parseAuthnRequest, type AuthnRequest } from './messages.js';
import { verifyRedirectSignature, verifyXmlSignature } from './signature.js';
import type { SamlIdp } from './idp.js';

const MAX_RELAY_STATE = 1024;

/** What is kept across the sign-in page: everything needed to answer the SP afterwards. */
interface PendingSso extends JsonObject {
  sp: string;
  acsUrl: string;
  binding: 'HTTP-POST' | 'HTTP-Artifact';
  requestId: string | null;
  relayState: string | null;
  nameIdFormat: string | null;
}

export interface VerifiedMessage {
  xml: string;
  relayState?: string;
  signed: boolean;
}

/** Only to find which SP's certificates to verify with; the request itself is read after verification. */
const issuerOf = (xml: string) => messageIssuer(xml, ['AuthnRequest']);

/** Reads a Redirect- or POST-bound request and verifies its signature per the SP's policy. */
export async function readSignedMessage(
  idp: SamlIdp, req: IncomingMessage, url: URL, params: ReadonlyArray<'SAMLRequest' | 'SAMLResponse'>,
  issuerFrom: (xml: string) => string | undefined,
): Promise<{ sp: ServiceProviderRecord; message: VerifiedMessage; binding: 'HTTP-Redirect' | 'HTTP-POST' }> {
  const max = idp.deps.config.maxMessageBytes;
  if (req.method === 'GET') {
    const param = params.find((p) => url.searchParams.has(p)) ?? params[0]!;
    const rawQuery = url.search.slice(1);
    const decoded = decodeRedirect(rawQuery, param, max);
    const sp = await idp.serviceProvider(issuerFrom(decoded.xml));
    let signed = false;
    if (decoded.signature && decoded.sigAlg && decoded.signedOctets) {
      verifyRedirectSignature(decoded.signedOctets, decoded.sigAlg, decoded.signature, sp.signingCertificates, sp.allowSha1);
      signed = true;
    }
    if (!signed && sp.requireSignedRequests) throw new SamlError(403, 'UNSIGNED', 'This service provider must sign its requests.');
    return { sp, binding: 'HTTP-Redirect', message: { xml: decoded.xml, ...(decoded.relayState === undefined ? {} : { relayState: decoded.relayState }), signed } };
  }
  const form = await readForm(req, Math.min(idp.deps.maxBodyBytes, Math.ceil(max * 1.4) + 4096));
  const param = params.find((p) => form.has(p)) ?? params[0]!;
  const encoded = form.get(param);
  if (!encoded) throw new SamlError(400, 'MISSING_MESSAGE', `The ${param} field is missing.`);
  const xml = decodePost(encoded, max);
  const sp = await idp.serviceProvider(issuerFrom(xml));
  const verified = verifyXmlSignature(xml, { certs: sp.signingCertificates, allowSha1: sp.allowSha1, maxBytes: max });
  if (!verified.signed && sp.requireSignedRequests) throw new SamlError(403, 'UNSIGNED', 'This service provider must sign its requests.');
  const relayState = form.get('RelayState');
  return {
    sp, binding: 'HTTP-POST',
    // Parse only what the signature covered (signature-wrapping defence).
    message: { xml: verified.verifiedXml ?? xml, ...(relayState === undefined ? {} : { relayState }), signed: verified.signed },
  };
}

/** The ACS to answer at: the registered one the request names (by URL or index), else the SP's default. */
function chooseAcs(sp: ServiceProviderRecord, request: Pick<AuthnRequest, 'acsUrl' | 'acsIndex' | 'protocolBinding'> = {}): SamlEndpoint {
  const usable = sp.assertionConsumerServices.filter((a) => a.binding === 'HTTP-POST' || a.binding === 'HTTP-Artifact');
  let acs: SamlEndpoint | undefined;
  if (request.acsUrl !== undefined) {
    acs = usable.find((a) => a.location === request.acsUrl && (!request.protocolBinding || a.binding === request.protocolBinding));
    if (!acs) throw new SamlError(403, 'ACS_NOT_REGISTERED', 'The AssertionConsumerServiceURL is not registered for this service provider.');
  } else if (request.acsIndex !== undefined) {
    acs = usable.find((a) => a.index === request.acsIndex);
    if (!acs) throw new SamlError(403, 'ACS_NOT_REGISTERED', 'The AssertionConsumerServiceIndex is not registered for this service provider.');
  } else {
    const candidates = request.protocolBinding ? usable.filter((a) => a.binding === request.protocolBinding) : usable;
    acs = candidates.find((a) => a.isDefault) ?? [...candidates].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))[0];
  }
  if (!acs) throw new SamlError(403, 'NO_ACS', 'The service provider has no AssertionConsumerService for HTTP-POST or HTTP-Artifact.');
  return acs;
}

function checkRelayState(relayState: string | undefined): string | null {
  if (relayState === undefined || relayState === '') return null;
  if (relayState.length > MAX_RELAY_STATE) throw new SamlError(400, 'RELAY_STATE', `RelayState is longer than ${MAX_RELAY_STATE} characters.`);
  return relayState;
}

export class SsoEndpoints {
  readonly bridge: SamlBridge<PendingSso>;

  constructor(private readonly idp: SamlIdp, secure: () => boolean) {
    const d = idp.deps;
    this.bridge = new SamlBridge<PendingSso>({
      provider: d.provider, state: d.state, issuer: d.issuer, nodeIndex: d.nodeIndex,
      ttlMs: 10 * 60_000, secure,
    });
  }

  /** GET or POST /saml/sso: an SP-initiated AuthnRequest. */
  async request(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { sp, message } = await readSignedMessage(this.idp, req, url, ['SAMLRequest'], issuerOf);
    const request = parseAuthnRequest(message.xml);
    const now = Date.now();
    checkFreshness(request.issueInstant, now, this.idp.skewMs, this.idp.maxAgeMs);
    checkDestination(request.destination, [this.idp.urls.sso], message.signed);
    const acs = chooseAcs(sp, request);
    await this.idp.firstUse('authn', sp.entityId, request.id, now);
    const pending: PendingSso = {
      sp: sp.entityId, acsUrl: acs.location, binding: acs.binding as PendingSso['binding'], requestId: request.id,
      relayState: checkRelayState(message.relayState), nameIdFormat: request.nameIdFormat ?? null,
    };
    try {
      nameIdFormatFor(sp, request.nameIdFormat);
    } catch (err) {
      return this.deliver(res, pending, errorResponse(this.idp, {
        acsUrl: acs.location, inResponseTo: request.id, status: (err as SamlError).samlStatus ?? STATUS.responder,
        message: (err as Error).message, now,
      }));
    }
    this.idp.deps.logger.info({ event: 'saml.authn_request', sp: sp.entityId, binding: acs.binding, forceAuthn: request.forceAuthn, isPassive: request.isPassive }, 'SAML AuthnRequest');
    await this.bridge.begin(req, res, pending, { forceAuthn: request.forceAuthn, isPassive: request.isPassive });
  }

  /** GET /saml/init?sp=ENTITY_ID[&RelayState=...]: IdP-initiated SSO (an unsolicited Response to the SP's default ACS). */
  async idpInitiated(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const sp = await this.idp.serviceProvider(url.searchParams.get('sp') ?? undefined);
    const acs = chooseAcs(sp);
    const pending: PendingSso = {
      sp: sp.entityId, acsUrl: acs.location, binding: acs.binding as PendingSso['binding'], requestId: null,
      relayState: checkRelayState(url.searchParams.get('RelayState') ?? undefined), nameIdFormat: null,
    };
    await this.bridge.begin(req, res, pending, { forceAuthn: false, isPassive: false });
  }

  /** GET /saml/continue: back from the authorization endpoint; answer the SP. */
  async continue(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const outcome = await this.bridge.finish(req, url);
    const { pending } = outcome;
    const sp = await this.idp.serviceProvider(pending.sp);
    const now = Date.now();
    const inResponseTo = pending.requestId ?? undefined;
    if ('error' in outcome) {
      const status = outcome.error === 'login_required' || outcome.error === 'interaction_required' ? STATUS.noPassive
        : outcome.error === 'access_denied' ? STATUS.requestDenied : STATUS.authnFailed;
      return this.deliver(res, pending, errorResponse(this.idp, { acsUrl: pending.acsUrl, ...(inResponseTo ? { inResponseTo } : {}), status, now }));
    }
    const user = await this.idp.deps.users.getById(outcome.signedIn.accountId);
    if (!user || user.disabled) {
      return this.deliver(res, pending, errorResponse(this.idp, { acsUrl: pending.acsUrl, ...(inResponseTo ? { inResponseTo } : {}), status: STATUS.authnFailed, now }));
    }
    const sessionIndex = sealSessionIndex(outcome.signedIn.sessionUid, this.idp.deps.secrets.sessionIndex);
    let issued;
    try {
      issued = await issueResponse(this.idp, {
        sp, user, acsUrl: pending.acsUrl, ...(inResponseTo ? { inResponseTo } : {}),
        ...(pending.nameIdFormat ? { requestedFormat: pending.nameIdFormat } : {}),
        sessionIndex, authnInstant: new Date(outcome.signedIn.authTime * 1000), now,
      });
    } catch (err) {
      if (!isSamlError(err) || !err.samlStatus) throw err;
      return this.deliver(res, pending, errorResponse(this.idp, { acsUrl: pending.acsUrl, ...(inResponseTo ? { inResponseTo } : {}), status: err.samlStatus, message: err.message, now }));
    }
    // Single logout must reach this SP later, from any node: the registry entry carries what a LogoutRequest needs.
    await this.idp.deps.state.registry.add(outcome.signedIn.sessionUid, {
      protocol: 'saml', clientId: sp.entityId, details: { nameId: issued.nameId, nameIdFormat: issued.format, sessionIndex },
    }, now + this.idp.deps.sessionTtlMs);
    this.idp.deps.logger.info({ event: 'saml.response_issued', sp: sp.entityId, binding: pending.binding, userId: user.id }, 'SAML response issued');
    await this.deliver(res, pending, issued.xml);
  }

  private async deliver(res: ServerResponse, pending: PendingSso, responseXml: string): Promise<void> {
    if (pending.binding === 'HTTP-Artifact') {
      const { artifact, handleKey } = createArtifact({
        endpointIndex: this.idp.artifactEndpointIndex, idpEntityId: this.idp.entityId, nodeIndex: this.idp.deps.nodeIndex,
      });
      const expiresAt = Date.now() + this.idp.deps.config.artifactLifetimeSeconds * 1000;
      await this.idp.deps.state.artifacts.put(handleKey, JSON.stringify({ sp: pending.sp, xml: responseXml }), expiresAt);
      const target = new URL(pending.acsUrl);
      target.searchParams.set('SAMLart', artifact);
      if (pending.relayState) target.searchParams.set('RelayState', pending.relayState);
      res.statusCode = 303;
      res.setHeader('Location', target.toString());
      res.setHeader('Cache-Control', 'no-store');
      res.end();
      return;
    }
    sendPostForm(res, pending.acsUrl, {
      SAMLResponse: Buffer.from(responseXml, 'utf8').toString('base64'),
      ...(pending.relayState ? { RelayState: pending.relayState } : {}),
    });
  }
}

/** The auto-submitting form of the POST binding, with a CSP that allows only its own script and its own target. */
export function sendPostForm(res: ServerResponse, action: string, fields: Record<string, string>): void {
  const nonce = randomBytes(16).toString('base64');
  const origin = new URL(action).origin;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; form-action ${origin}; frame-ancestors 'none'; base-uri 'none'`);
  res.end(postFormHtml(action, fields, nonce));
}
