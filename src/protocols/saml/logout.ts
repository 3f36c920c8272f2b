// Single logout (SAML profiles §4.4), SP-initiated and IdP-initiated, through any node. Ending the session is the
// session terminator's job (it deletes the session at its owner, revokes it cluster-wide, and reaches OIDC clients
// and SOAP-capable SPs over the back channel); what remains here is the front channel: SPs that only have a
// Redirect or POST SingleLogoutService are visited one after another in the browser, with the chain's progress
// kept in the inter-request store so each hop may land on a different node.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject, Participant, SessionRecord } from '../../state/types.js';
import type { SamlEndpoint, ServiceProviderRecord } from '../../store/types.js';
import { routedId } from '../../state/routed-id.js';
import { sendHtml } from '../../http/respond.js';
import { loggedOutPage } from '../../auth/views/pages.js';
import { encodeRedirect } from './bindings.js';
import { buildLogoutResponse } from './builders.js';
import { isSamlError, SamlError, STATUS } from './errors.js';
import { openSessionIndex } from './idp-secrets.js';
import { checkDestination, checkFreshness, messageIssuer, parseAnyRoot, parseLogoutRequest, parseLogoutResponse, type LogoutRequest } from './messages.js';
import { frontChannelLogoutEndpoint, logoutRequestFor } from './back-channel-logout.js';
import { readSoapMessage, sendSoap, sendSoapFault } from './artifact-resolution.js';
import { readSignedMessage, sendPostForm } from './sso.js';
import { signXml, verifyXmlSignature } from './signature.js';
import { BRIDGE_CLIENT_ID } from './bridge.js';
import type { SamlIdp } from './idp.js';

/** Ends a session everywhere it can without a browser; returns the SAML participants left for the front channel. */
export type EndSession = (session: SessionRecord, except: string | undefined) => Promise<{ frontChannel: Participant[]; failed: number }>;

interface Chain {
  /** The SP whose LogoutRequest started it (null: the IdP's own logout page). */
  origin: { sp: string; requestId: string; relayState: string | null } | null;
  remaining: Participant[];
  awaiting: { sp: string; requestId: string } | null;
  partial: boolean;
}

const CHAIN_TTL_MS = 10 * 60_000;

/** The front-channel endpoint to answer at: same binding as the request where the SP has it. */
function responseEndpoint(sp: ServiceProviderRecord, binding: 'HTTP-Redirect' | 'HTTP-POST'): SamlEndpoint | undefined {
  return sp.singleLogoutServices.find((e) => e.binding === binding) ?? frontChannelLogoutEndpoint(sp);
}

const logoutIssuer = (xml: string) => messageIssuer(xml, ['LogoutRequest', 'LogoutResponse']);

export class SingleLogout {
  constructor(
    private readonly idp: SamlIdp,
    private readonly endSession: EndSession,
    /** The browser's current session, from the SSO cookie (IdP-initiated logout). */
    private readonly currentSession: (req: IncomingMessage, res: ServerResponse) => Promise<SessionRecord | undefined>,
  ) {}

  /** GET or POST /saml/slo: an SP's LogoutRequest, or an SP's LogoutResponse to a step of our chain. */
  async frontChannel(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { sp, message, binding } = await readSignedMessage(this.idp, req, url, ['SAMLRequest', 'SAMLResponse'], logoutIssuer);
    const root = parseAnyRoot(message.xml);
    if (!message.signed && sp.signingCertificates.length > 0) {
      throw new SamlError(403, 'UNSIGNED', 'Logout messages from this service provider must be signed.');
    }
    if (root === 'LogoutResponse') return this.stepDone(res, sp, message.xml, message.relayState);
    if (root !== 'LogoutRequest') throw new SamlError(400, 'WRONG_ROOT', 'Expected a LogoutRequest or LogoutResponse.');
    const request = this.checkRequest(sp, message.xml, this.idp.urls.slo, message.signed);
    await this.idp.firstUse('logout', sp.entityId, request.id, Date.now());
    const session = await this.sessionOf(sp, request);
    const chain: Chain = {
      origin: { sp: sp.entityId, requestId: request.id, relayState: message.relayState ?? null },
      remaining: [], awaiting: null, partial: false,
    };
    if (session) {
      const ended = await this.endSession(session, sp.entityId);
      chain.remaining = ended.frontChannel;
      chain.partial = ended.failed > 0;
    }
    this.idp.deps.logger.info({ event: 'saml.logout_request', sp: sp.entityId, binding, found: Boolean(session), frontChannel: chain.remaining.length }, 'SAML LogoutRequest');
    await this.next(res, chain);
  }

  /** POST /saml/slo/soap: an SP's LogoutRequest over the back channel. */
  async soap(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const xml = await readSoapMessage(req, this.idp.deps.config.maxMessageBytes);
      const sp = await this.idp.serviceProvider(parseLogoutRequest(xml).issuer);
      const verified = verifyXmlSignature(xml, { certs: sp.signingCertificates, allowSha1: sp.allowSha1, rootLocalName: 'LogoutRequest' });
      if (!verified.signed && sp.signingCertificates.length > 0) throw new SamlError(403, 'UNSIGNED', 'LogoutRequest must be signed.');
      const request = this.checkRequest(sp, verified.verifiedXml ?? xml, this.idp.urls.sloSoap, verified.signed);
      await this.idp.firstUse('logout', sp.entityId, request.id, Date.now());
      const session = await this.sessionOf(sp, request);
      let status: string = STATUS.success;
      if (session) {
        const ended = await this.endSession(session, sp.entityId);
        // Without a browser, SPs reachable only through it cannot be told: SAML calls that a partial logout.
        if (ended.frontChannel.length > 0 || ended.failed > 0) status = STATUS.partialLogout;
      }
      const response = signXml(buildLogoutResponse({
        issuer: this.idp.entityId, destination: sp.entityId, inResponseTo: request.id, status, now: Date.now(),
      }), { key: this.idp.deps.signing.key, cert: this.idp.deps.signing.cert, rootLocalName: 'LogoutResponse' });
      this.idp.deps.logger.info({ event: 'saml.logout_request', sp: sp.entityId, binding: 'SOAP', found: Boolean(session), status }, 'SAML LogoutRequest');
      sendSoap(res, 200, response);
    } catch (err) {
      if (isSamlError(err)) return sendSoapFault(res, err);
      throw err;
    }
  }

  /** GET /saml/logout: IdP-initiated logout of the browser's session from every SP and client. */
  async idpInitiated(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = await this.currentSession(req, res);
    const chain: Chain = { origin: null, remaining: [], awaiting: null, partial: false };
    if (session) {
      const ended = await this.endSession(session, undefined);
      chain.remaining = ended.frontChannel;
      chain.partial = ended.failed > 0;
    }
    await this.next(res, chain);
  }

  private checkRequest(sp: ServiceProviderRecord, xml: string, endpoint: string, signed: boolean): LogoutRequest {
    const request = parseLogoutRequest(xml);
    const now = Date.now();
    checkFreshness(request.issueInstant, now, this.idp.skewMs, this.idp.maxAgeMs);
    if (request.notOnOrAfter && request.notOnOrAfter.getTime() + this.idp.skewMs < now) {
      throw new SamlError(400, 'STALE_MESSAGE', 'The LogoutRequest has expired.');
    }
    checkDestination(request.destination, [endpoint], signed);
    if (request.issuer !== sp.entityId) throw new SamlError(403, 'WRONG_ISSUER', 'The issuer does not match.');
    return request;
  }

  /** The session a LogoutRequest names, only if this SP is in it under that very NameID. */
  private async sessionOf(sp: ServiceProviderRecord, request: LogoutRequest): Promise<SessionRecord | undefined> {
    for (const index of request.sessionIndexes) {
      const sessionUid = openSessionIndex(index, this.idp.deps.secrets.sessionIndex);
      if (!sessionUid) continue;
      const participants = await this.idp.deps.state.registry.list(sessionUid);
      const mine = participants.find((p) => p.protocol === 'saml' && p.clientId === sp.entityId);
      if (!mine || mine.details?.nameId !== request.nameId || mine.details?.sessionIndex !== index) continue;
      return this.idp.deps.state.sessions.findByUid(sessionUid);
    }
    return undefined;
  }

  /** An SP answered our LogoutRequest: note the outcome and go on with the chain. */
  private async stepDone(res: ServerResponse, sp: ServiceProviderRecord, xml: string, relayState: string | undefined): Promise<void> {
    const response = parseLogoutResponse(xml);
    const chainId = relayState ?? '';
    const chain = /^[A-Za-z0-9_-]{20,64}\.[0-9a-z]{1,4}$/.test(chainId)
      ? await this.idp.deps.state.interRequest.get(`slo:${chainId}`) as unknown as Chain | undefined : undefined;
    if (!chain || chain.awaiting?.sp !== sp.entityId || chain.awaiting.requestId !== response.inResponseTo) {
      throw new SamlError(400, 'LOGOUT_UNEXPECTED', 'This logout response does not belong to a logout in progress.');
    }
    await this.idp.deps.state.interRequest.delete(`slo:${chainId}`);
    if (response.status !== STATUS.success) chain.partial = true;
    chain.awaiting = null;
    await this.next(res, chain);
  }

  /** Sends the browser to the next SP of the chain, or finishes it. */
  private async next(res: ServerResponse, chain: Chain): Promise<void> {
    while (chain.remaining.length > 0) {
      const participant = chain.remaining.shift()!;
      const sp = await this.idp.deps.serviceProviders.get(participant.clientId);
      const endpoint = sp && frontChannelLogoutEndpoint(sp);
      if (!sp || !endpoint) continue;
      const { id, xml } = logoutRequestFor(this.idp, participant, endpoint.location);
      chain.awaiting = { sp: sp.entityId, requestId: id };
      const chainId = routedId(this.idp.deps.nodeIndex, randomBytes(24).toString('base64url'));
      await this.idp.deps.state.interRequest.put(`slo:${chainId}`, chain as unknown as JsonObject, Date.now() + CHAIN_TTL_MS);
      return this.send(res, endpoint, 'SAMLRequest', xml, chainId);
    }
    if (!chain.origin) return sendHtml(res, 200, loggedOutPage());
    const origin = await this.idp.serviceProvider(chain.origin.sp);
    const endpoint = responseEndpoint(origin, 'HTTP-Redirect');
    if (!endpoint) return sendHtml(res, 200, loggedOutPage());
    const destination = endpoint.responseLocation ?? endpoint.location;
    const xml = buildLogoutResponse({
      issuer: this.idp.entityId, destination, inResponseTo: chain.origin.requestId,
      status: chain.partial ? STATUS.partialLogout : STATUS.success, now: Date.now(),
    });
    return this.send(res, { ...endpoint, location: destination }, 'SAMLResponse', xml, chain.origin.relayState ?? undefined);
  }

  private send(res: ServerResponse, endpoint: SamlEndpoint, param: 'SAMLRequest' | 'SAMLResponse', xml: string, relayState: string | undefined): void {
    const { key, cert } = this.idp.deps.signing;
    if (endpoint.binding === 'HTTP-Redirect') {
      res.statusCode = 303;
      res.setHeader('Location', encodeRedirect(endpoint.location, param, xml, relayState, { key }));
      res.setHeader('Cache-Control', 'no-store');
      res.end();
      return;
    }
    const signed = signXml(xml, { key, cert, rootLocalName: param === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse' });
    sendPostForm(res, endpoint.location, {
      [param]: Buffer.from(signed, 'utf8').toString('base64'), ...(relayState ? { RelayState: relayState } : {}),
    });
  }
}

/** Participants the front channel must visit: SAML SPs without a SOAP endpoint (the bridge client is never one). */
export function isFrontChannelOnly(p: Participant, sp: ServiceProviderRecord | undefined): boolean {
  return p.protocol === 'saml' && p.clientId !== BRIDGE_CLIENT_ID && Boolean(sp)
    && !sp!.singleLogoutServices.some((e) => e.binding === 'SOAP') && Boolean(frontChannelLogoutEndpoint(sp!));
}
