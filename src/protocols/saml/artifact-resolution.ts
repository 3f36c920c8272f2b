// The ArtifactResolutionService (SAML bindings §3.6, SOAP): an SP presents an artifact it received in the browser
// and gets the Response behind it. Any node answers: the artifact's message handle carries the issuing node's index,
// so the artifact store (peer backend) takes the message from its owner over the back channel. take() removes it,
// so an artifact resolves exactly once, cluster-wide.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../../http/body.js';
import { parseArtifact } from './artifact.js';
import { soapBody, soapEnvelope } from './bindings.js';
import { buildArtifactResponse } from './builders.js';
import { isSamlError, SamlError, STATUS } from './errors.js';
import { checkDestination, checkFreshness, parseArtifactResolve } from './messages.js';
import { signXml, verifyXmlSignature } from './signature.js';
import { escapeXml, parseXml, serialize } from './xml.js';
import type { SamlIdp } from './idp.js';

const SOAP_TYPES = new Set(['text/xml', 'application/soap+xml']);

export function sendSoap(res: ServerResponse, status: number, innerXml: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/xml; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(soapEnvelope(innerXml));
}

/** A SOAP Fault for input the endpoint cannot act on; 4xx (not SOAP's customary 500) because the caller erred. */
export function sendSoapFault(res: ServerResponse, err: SamlError): void {
  const code = err.status >= 500 ? 'soap11:Server' : 'soap11:Client';
  sendSoap(res, err.status, `<soap11:Fault><faultcode>${code}</faultcode><faultstring>${escapeXml(err.message)}</faultstring></soap11:Fault>`);
}

/** The single SAML element of a SOAP request, serialised on its own so its signature can be checked. */
export async function readSoapMessage(req: IncomingMessage, maxBytes: number): Promise<string> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!SOAP_TYPES.has(type)) throw new SamlError(415, 'SOAP_CONTENT_TYPE', 'Expected a SOAP message (text/xml).');
  // SOAPAction is optional here: SAML bindings §3.2.2.1 says the IdP must not depend on it.
  const text = (await readBody(req, maxBytes)).toString('utf8');
  return serialize(soapBody(parseXml(text, { maxBytes })));
}

export class ArtifactResolution {
  constructor(private readonly idp: SamlIdp) {}

  async resolve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const xml = await readSoapMessage(req, this.idp.deps.config.maxMessageBytes);
      const unverified = parseArtifactResolve(xml);
      const sp = await this.idp.serviceProvider(unverified.issuer);
      const verified = verifyXmlSignature(xml, { certs: sp.signingCertificates, allowSha1: sp.allowSha1, rootLocalName: 'ArtifactResolve' });
      // The artifact is a bearer credential: an SP with registered keys must prove it is the SP by signing.
      if (!verified.signed && sp.signingCertificates.length > 0) {
        throw new SamlError(403, 'UNSIGNED', 'ArtifactResolve must be signed by the service provider.');
      }
      const request = parseArtifactResolve(verified.verifiedXml ?? xml);
      const now = Date.now();
      checkFreshness(request.issueInstant, now, this.idp.skewMs, this.idp.maxAgeMs);
      checkDestination(request.destination, this.idp.artifactEndpoints.map((e) => e.location).concat(this.idp.urls.artifact), false);
      await this.idp.firstUse('artifact-resolve', sp.entityId, request.id, now);
      const { handleKey } = parseArtifact(request.artifact, this.idp.entityId);
      const stored = await this.idp.deps.state.artifacts.take(handleKey);
      let message: string | undefined;
      if (stored) {
        const { sp: issuedTo, xml: responseXml } = JSON.parse(stored) as { sp: string; xml: string };
        // An artifact issued to another SP is not disclosed (SAML core §3.5.3: Success with no message).
        if (issuedTo === sp.entityId) message = responseXml;
        else this.idp.deps.logger.warn({ event: 'saml.artifact_wrong_sp', sp: sp.entityId, issuedTo }, 'artifact presented by another SP');
      }
      this.idp.deps.logger.info({ event: 'saml.artifact_resolved', sp: sp.entityId, found: message !== undefined, owner: handleKey.split('.').pop() }, 'artifact resolve');
      // The ArtifactResponse itself is signed too (the Response inside already is, or its assertion): without TLS
      // client authentication there is nothing else to bind it to the IdP, and lasso (mod_auth_mellon) refuses an
      // unsigned one.
      const { key, cert } = this.idp.deps.signing;
      sendSoap(res, 200, signXml(buildArtifactResponse({
        issuer: this.idp.entityId, inResponseTo: request.id, status: STATUS.success, now,
        ...(message === undefined ? {} : { messageXml: message }),
      }), { key, cert, rootLocalName: 'ArtifactResponse' }));
    } catch (err) {
      if (isSamlError(err)) return sendSoapFault(res, err);
      throw err;
    }
  }
}
