// A SAML service provider for end-to-end tests: @node-saml/node-saml (the library behind passport-saml) does the SP
// side — building AuthnRequests and LogoutRequests, validating Responses — and a small HTTP server receives what
// an SP receives over the back channel (SOAP LogoutRequests). Its metadata is what `cohort sps add` registers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAML, type SamlConfig } from '@node-saml/node-saml';
import { testKeys } from '../../src/protocols/saml/test-keys.js';
import { pemBody } from '../../src/protocols/saml/metadata.js';
import type { Browser, Response } from './browser.js';
import { formAction, hiddenField } from './browser.js';

const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const ARTIFACT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact';
const SOAP = 'urn:oasis:names:tc:SAML:2.0:bindings:SOAP';

export interface TestSpOptions {
  /** Also offer a SOAP SingleLogoutService (back-channel logout). */
  soapLogout?: boolean;
  /** How node-saml sends its AuthnRequest. */
  requestBinding?: 'HTTP-Redirect' | 'HTTP-POST';
  /** Sign AuthnRequests (AuthnRequestsSigned in metadata). */
  signRequests?: boolean;
}

export class TestSp {
  readonly keys = testKeys('cohort-test-sp');
  readonly entityId: string;
  /** SOAP LogoutRequests received (raw XML). */
  readonly soapLogouts: string[] = [];
  private server?: Server;
  private base = '';
  private idpCert = '';

  constructor(readonly name: string, private readonly options: TestSpOptions = {}) {
    this.entityId = `https://${name}.sp.test/saml`;
  }

  get acsUrl(): string { return `${this.base}/acs`; }
  get artifactAcsUrl(): string { return `${this.base}/acs-artifact`; }
  get sloUrl(): string { return `${this.base}/slo`; }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/slo-soap' && req.method === 'POST') {
          this.soapLogouts.push(body);
          const requestId = /LogoutRequest[^>]*\sID="([^"]+)"/.exec(body)?.[1] ?? 'unknown';
          res.setHeader('content-type', 'text/xml');
          res.end('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            + '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            + `ID="_r${Date.now()}" Version="2.0" IssueInstant="${new Date().toISOString()}" InResponseTo="${requestId}">`
            + `<saml:Issuer>${this.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
            + '</samlp:LogoutResponse></soap:Body></soap:Envelope>');
          return;
        }
        res.statusCode = 404;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  metadataXml(): string {
    const cert = pemBody(this.keys.cert);
    const key = (use: string) => `<md:KeyDescriptor use="${use}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${this.entityId}">
  <md:SPSSODescriptor AuthnRequestsSigned="${this.options.signRequests ? 'true' : 'false'}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${key('signing')}${key('encryption')}
    ${this.options.soapLogout ? `<md:SingleLogoutService Binding="${SOAP}" Location="${this.base}/slo-soap"/>` : ''}
    <md:SingleLogoutService Binding="${REDIRECT}" Location="${this.base}/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="${POST}" Location="${this.base}/acs" index="0" isDefault="true"/>
    <md:AssertionConsumerService Binding="${ARTIFACT}" Location="${this.base}/acs-artifact" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`;
  }

  writeMetadata(dir: string): string {
    const file = join(dir, `${this.name}-sp.xml`);
    writeFileSync(file, this.metadataXml());
    return file;
  }

  /** Reads the IdP's signing certificate from its metadata, as an SP administrator would. */
  async trustIdp(issuer: string): Promise<void> {
    const metadata = await (await fetch(`${issuer}/saml/metadata`)).text();
    const cert = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)?.[1];
    if (!cert) throw new Error(`no certificate in IdP metadata:\n${metadata}`);
    this.idpCert = cert;
  }

  saml(issuer: string, extra: Partial<SamlConfig> = {}): SAML {
    return new SAML({
      idpCert: this.idpCert,
      issuer: this.entityId,
      callbackUrl: this.acsUrl,
      audience: this.entityId,
      entryPoint: `${issuer}/saml/sso`,
      logoutUrl: `${issuer}/saml/slo`,
      idpIssuer: `${issuer}/saml/metadata`,
      identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      privateKey: this.keys.key,
      decryptionPvk: this.keys.key,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      authnRequestBinding: this.options.requestBinding ?? 'HTTP-Redirect',
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: 'never',
      acceptedClockSkewMs: 5_000,
      ...extra,
    } as SamlConfig);
  }
}

/** The answer that reaches the SP at the end of a browser SSO: a POSTed SAMLResponse or an artifact. */
export interface SpArrival {
  samlResponse?: string;
  samlArt?: string;
  relayState?: string;
  sawLoginPage: boolean;
}

/**
 * Drives the browser from an SP's request (a URL, or an auto-post form page) through Cohort's pages to the point
 * where the browser would deliver the answer to the SP. `via` sends every Cohort request to one node.
 */
export async function samlSignIn(
  browser: Browser, start: string | { action: string; fields: Record<string, string> },
  spBase: string, credentials?: { username: string; password: string }, via?: string | (() => string),
): Promise<SpArrival> {
  const rebase = (url: string) => {
    const target = typeof via === 'function' ? via() : via;
    return target && !url.startsWith(spBase) ? new URL(new URL(url).pathname + new URL(url).search, target).href : url;
  };
  let sawLoginPage = false;
  let res: Response = typeof start === 'string'
    ? await browser.get(rebase(start))
    : await browser.post(rebase(start.action), start.fields);
  for (let step = 0; step < 15; step++) {
    if (res.location) {
      if (res.location.startsWith(spBase)) {
        const url = new URL(res.location);
        return { samlArt: url.searchParams.get('SAMLart') ?? '', ...(url.searchParams.get('RelayState') ? { relayState: url.searchParams.get('RelayState')! } : {}), sawLoginPage };
      }
      res = await browser.get(rebase(res.location));
      continue;
    }
    if (res.status !== 200) throw new Error(`unexpected ${res.status} at ${res.url}: ${res.body.slice(0, 600)}`);
    if (res.body.includes('name="SAMLResponse"')) {
      const relayState = res.body.includes('name="RelayState"') ? hiddenField(res.body, 'RelayState') : undefined;
      return { samlResponse: hiddenField(res.body, 'SAMLResponse'), ...(relayState ? { relayState } : {}), sawLoginPage };
    }
    if (res.body.includes('name="password"')) {
      if (!credentials) throw new Error(`a sign-in page was shown at ${res.url} but the test expected SSO`);
      sawLoginPage = true;
      res = await browser.post(rebase(new URL(formAction(res.body, '/login'), res.url).href), {
        csrf: hiddenField(res.body, 'csrf'), username: credentials.username, password: credentials.password,
      });
      continue;
    }
    throw new Error(`unexpected page at ${res.url}:\n${res.body.slice(0, 1500)}`);
  }
  throw new Error('SAML sign-in did not finish within 15 steps');
}

/** The action and fields of an auto-submitting form page (node-saml's HTTP-POST AuthnRequest, Cohort's POST binding). */
export function autoPostForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in:\n${html.slice(0, 1000)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x2B;/gi, '+').replace(/&#x3D;/gi, '=');
  return { action: action.replace(/&amp;/g, '&'), fields };
}
