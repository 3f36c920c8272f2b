// The SP side of the HTTP-Artifact binding for tests: a signed ArtifactResolve sent over SOAP, as Shibboleth SP and
// mod_auth_mellon send it (no npm SP library implements it). Signing uses xml-crypto directly; Cohort's own code is
// not used on this side, so the test checks Cohort against an independently built message.
import { randomBytes } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import type { TestSp } from './saml-sp.js';

export interface ArtifactResolveResult {
  status: number;
  body: string;
  /** The samlp:Response inside the ArtifactResponse, when there is one. */
  responseXml?: string;
  /** Top-level StatusCode of the ArtifactResponse. */
  statusCode?: string;
}

export function signedArtifactResolve(sp: TestSp, artifact: string, destination: string, options: { sha1?: boolean; issueInstant?: Date } = {}): string {
  const id = `_${randomBytes(16).toString('hex')}`;
  const xml = `<samlp:ArtifactResolve xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" `
    + `ID="${id}" Version="2.0" IssueInstant="${(options.issueInstant ?? new Date()).toISOString()}" Destination="${destination}">`
    + `<saml:Issuer>${sp.entityId}</saml:Issuer><samlp:Artifact>${artifact}</samlp:Artifact></samlp:ArtifactResolve>`;
  const sig = new SignedXml({
    privateKey: sp.keys.key,
    publicCert: sp.keys.cert,
    signatureAlgorithm: options.sha1 ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: "/*[local-name(.)='ArtifactResolve']",
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: options.sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { location: { reference: "/*[local-name(.)='ArtifactResolve']/*[local-name(.)='Issuer']", action: 'after' } });
  return sig.getSignedXml();
}

export async function resolveArtifact(
  endpoint: string, sp: TestSp, artifact: string,
  options: { sha1?: boolean; soapAction?: boolean; unsigned?: boolean; message?: string } = {},
): Promise<ArtifactResolveResult> {
  const message = options.message ?? (options.unsigned
    ? signedArtifactResolve(sp, artifact, endpoint).replace(/<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/, '')
    : signedArtifactResolve(sp, artifact, endpoint, options));
  const envelope = `<soap11:Envelope xmlns:soap11="http://schemas.xmlsoap.org/soap/envelope/"><soap11:Body>${message}</soap11:Body></soap11:Envelope>`;
  const response = await fetch(endpoint, {
    method: 'POST', body: envelope,
    headers: { 'content-type': 'text/xml; charset=utf-8', ...(options.soapAction ? { soapaction: 'http://www.oasis-open.org/committees/security' } : {}) },
  });
  const body = await response.text();
  const responseXml = /<samlp:Response[\s\S]*<\/samlp:Response>/.exec(body)?.[0];
  const statusCode = /<samlp:ArtifactResponse[\s\S]*?<samlp:StatusCode Value="([^"]+)"/.exec(body)?.[1];
  return { status: response.status, body, ...(responseXml ? { responseXml } : {}), ...(statusCode ? { statusCode } : {}) };
}

/** An AuthnRequest asking for the answer over HTTP-Artifact, sent unsigned over the Redirect binding. */
export async function artifactAuthnRequestUrl(issuer: string, sp: TestSp): Promise<string> {
  const { deflateRawSync } = await import('node:zlib');
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" `
    + `ID="_${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${issuer}/saml/sso" `
    + `ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" AssertionConsumerServiceURL="${sp.artifactAcsUrl}">`
    + `<saml:Issuer>${sp.entityId}</saml:Issuer></samlp:AuthnRequest>`;
  return `${issuer}/saml/sso?SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
}
