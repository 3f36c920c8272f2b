// SAML web SSO end to end against a real `cohort start` process, with @node-saml/node-saml as the service provider:
// SP-initiated over HTTP-Redirect and HTTP-POST, answers over HTTP-POST and HTTP-Artifact, IdP-initiated SSO,
// ForceAuthn and IsPassive, encrypted assertions, and the CLI that registers SPs from their metadata.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, formAction, hiddenField } from './support/browser.js';
import { discover } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { autoPostForm, samlSignIn, TestSp } from './support/saml-sp.js';
import { artifactAuthnRequestUrl, resolveArtifact } from './support/saml-artifact.js';

const ALICE = { username: 'alice', password: 'correct horse battery staple' };

describe('SAML SSO end to end (single node)', () => {
  const dir = tempDir();
  let node: CohortProcess;
  const wiki = new TestSp('wiki', { signRequests: true });
  const crm = new TestSp('crm', { requestBinding: 'HTTP-POST' });
  const intranet = new TestSp('intranet', { soapLogout: true });
  const REDIRECT = 'http://127.0.0.1:5555/callback';
  let client: { client_id: string; client_secret: string };
  const spOrigin = (sp: TestSp) => new URL(sp.acsUrl).origin;

  before(async () => {
    await wiki.start();
    await crm.start();
    await intranet.start();
    const env = { COHORT_DATA_DIR: dir.path };
    const add = await runCli(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.org',
      '--display-name', 'Alice Liddell', '--groups', 'staff,engineering'], { stdin: `${ALICE.password}\n`, env });
    assert.equal(add.code, 0, add.stderr);
    const sp1 = await runCli(['sps', 'add', '--metadata', wiki.writeMetadata(dir.path), '--name', 'Wiki'], { env });
    assert.equal(sp1.code, 0, sp1.stderr);
    const sp2 = await runCli(['sps', 'add', '--metadata', crm.writeMetadata(dir.path), '--encrypt', 'aes256-gcm', '--nameid-format', 'emailAddress'], { env });
    assert.equal(sp2.code, 0, sp2.stderr);
    const created = await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--json'], { env });
    client = JSON.parse(created.stdout) as typeof client;
    const sp3 = await runCli(['sps', 'add', '--metadata', intranet.writeMetadata(dir.path)], { env });
    assert.equal(sp3.code, 0, sp3.stderr);
    node = await startCohort({ dataDir: dir.path, env: { COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' } });
    await wiki.trustIdp(node.issuer);
    await crm.trustIdp(node.issuer);
    await intranet.trustIdp(node.issuer);
  });

  after(async () => {
    await node?.stop();
    await wiki.stop();
    await crm.stop();
    await intranet.stop();
    dir.remove();
  });

  it('lists registered SPs with `cohort sps list`', async () => {
    const listed = await runCli(['sps', 'list', '--json'], { env: { COHORT_DATA_DIR: dir.path } });
    assert.equal(listed.code, 0, listed.stderr);
    const sps = JSON.parse(listed.stdout) as Array<{ entityId: string; requireSignedRequests: boolean; nameIdFormat: string }>;
    assert.deepEqual(sps.map((s) => [s.entityId, s.requireSignedRequests, s.nameIdFormat]),
      [[wiki.entityId, true, 'persistent'], [crm.entityId, false, 'emailAddress'], [intranet.entityId, false, 'persistent']]);
  });

  it('signs in over Redirect, answers over POST; a second SP (POST request, encrypted) gets SSO', async () => {
    const browser = new Browser();
    const sp = wiki.saml(node.issuer);
    const url = await sp.getAuthorizeUrlAsync('relay-123', undefined, {});
    const arrival = await samlSignIn(browser, url, spOrigin(wiki), ALICE);
    assert.ok(arrival.sawLoginPage);
    assert.equal(arrival.relayState, 'relay-123');
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! });
    assert.ok(profile?.nameID && profile.nameID.length > 20, 'a pairwise persistent NameID');
    assert.equal(profile!['urn:oid:0.9.2342.19200300.100.1.3'], 'alice@example.org');
    assert.deepEqual(profile!['urn:oid:1.3.6.1.4.1.5923.1.5.1.1'], ['staff', 'engineering']);

    // No NameIDPolicy in the request: the SP's registered format (emailAddress) applies.
    const crmSp = crm.saml(node.issuer, { identifierFormat: null });
    const form = autoPostForm(await crmSp.getAuthorizeFormAsync('', undefined, {}));
    const second = await samlSignIn(browser, form, spOrigin(crm));
    assert.equal(second.sawLoginPage, false, 'SSO: no second sign-in page');
    const crmProfile = (await crmSp.validatePostResponseAsync({ SAMLResponse: second.samlResponse! })).profile!;
    assert.equal(crmProfile.nameID, 'alice@example.org');
    assert.ok(Buffer.from(second.samlResponse!, 'base64').toString().includes('EncryptedAssertion'));
  });

  it('answers over HTTP-Artifact; the artifact resolves exactly once', async () => {
    const browser = new Browser();
    const arrival = await samlSignIn(browser, await artifactAuthnRequestUrl(node.issuer, intranet), spOrigin(intranet), ALICE);
    assert.ok(arrival.samlArt, 'an artifact reaches the SP');
    const first = await resolveArtifact(`${node.issuer}/saml/artifact`, intranet, arrival.samlArt!);
    assert.equal(first.status, 200, first.body);
    const { profile } = await intranet.saml(node.issuer, { callbackUrl: intranet.artifactAcsUrl })
      .validatePostResponseAsync({ SAMLResponse: Buffer.from(first.responseXml!).toString('base64') });
    assert.ok(profile?.nameID);
    const again = await resolveArtifact(`${node.issuer}/saml/artifact`, intranet, arrival.samlArt!, { soapAction: true });
    assert.equal(again.status, 200);
    assert.equal(again.responseXml, undefined, 'a second resolve returns no message');
  });
  it('shares one session with OIDC both ways; signing out at an OIDC client logs the SAML SP out over SOAP', async () => {
    const browser = new Browser();
    const sp = intranet.saml(node.issuer);
    const arrival = await samlSignIn(browser, await sp.getAuthorizeUrlAsync('', undefined, {}), spOrigin(intranet), ALICE);
    assert.ok(arrival.sawLoginPage);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! });

    const config = await discover(node.issuer, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const result = await signIn(browser, oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href, REDIRECT);
    assert.equal(result.sawLoginPage, false, 'the SAML sign-in serves the OIDC client');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });

    const before = intranet.soapLogouts.length;
    const page = await browser.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }).href);
    await browser.post(new URL(formAction(page.body, '/session/end/confirm'), node.issuer).href, { xsrf: hiddenField(page.body, 'xsrf'), logout: 'yes' });
    const request = await waitFor('SOAP LogoutRequest at the SP', () => intranet.soapLogouts[before]).catch((err: Error) => { throw new Error(`${err.message}\n${node.logs.slice(-6).join('\n')}`); });
    assert.match(request, /LogoutRequest/);
    assert.ok(request.includes(profile!.nameID), 'the LogoutRequest names the SP\'s NameID');
    const again = await samlSignIn(browser, await sp.getAuthorizeUrlAsync('', undefined, {}), spOrigin(intranet), ALICE);
    assert.ok(again.sawLoginPage, 'signed out for SAML too');
  });
  it('answers IsPassive without a session with NoPassive, and ForceAuthn with a sign-in page despite one', async () => {
    const browser = new Browser();
    const passive = wiki.saml(node.issuer, { passive: true });
    const refused = await samlSignIn(browser, await passive.getAuthorizeUrlAsync('', undefined, {}), spOrigin(wiki));
    assert.equal(refused.sawLoginPage, false, 'IsPassive never shows a page');
    const xml = Buffer.from(refused.samlResponse!, 'base64').toString();
    assert.match(xml, /status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/);
    // node-saml reads a signed NoPassive answer as "nobody is signed in" (no profile), not as an error.
    assert.equal((await passive.validatePostResponseAsync({ SAMLResponse: refused.samlResponse! })).profile, null);

    const first = await samlSignIn(browser, await wiki.saml(node.issuer).getAuthorizeUrlAsync('', undefined, {}), spOrigin(wiki), ALICE);
    assert.ok(first.sawLoginPage);
    const silent = await samlSignIn(browser, await passive.getAuthorizeUrlAsync('', undefined, {}), spOrigin(wiki));
    assert.ok((await passive.validatePostResponseAsync({ SAMLResponse: silent.samlResponse! })).profile?.nameID, 'IsPassive with a session: SSO');
    const forced = wiki.saml(node.issuer, { forceAuthn: true });
    const again = await samlSignIn(browser, await forced.getAuthorizeUrlAsync('', undefined, {}), spOrigin(wiki), ALICE);
    assert.ok(again.sawLoginPage, 'ForceAuthn asks for the password again');
    assert.ok((await forced.validatePostResponseAsync({ SAMLResponse: again.samlResponse! })).profile?.nameID);
  });

  it('sends an unsolicited response for IdP-initiated SSO, with RelayState', async () => {
    const browser = new Browser();
    const url = `${node.issuer}/saml/init?sp=${encodeURIComponent(wiki.entityId)}&RelayState=${encodeURIComponent('/dashboard')}`;
    const arrival = await samlSignIn(browser, url, spOrigin(wiki), ALICE);
    assert.equal(arrival.relayState, '/dashboard');
    const xml = Buffer.from(arrival.samlResponse!, 'base64').toString();
    assert.ok(!/InResponseTo=/.test(xml.split('<saml:Assertion')[0]!), 'no InResponseTo on an unsolicited Response');
    assert.ok((await wiki.saml(node.issuer).validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! })).profile?.nameID);
    const unknown = await browser.get(`${node.issuer}/saml/init?sp=${encodeURIComponent('https://unknown.example/sp')}`);
    assert.equal(unknown.status, 403);
  });

  it('refuses an RSA-SHA1 ArtifactResolve from an SP not allowed SHA-1', async () => {
    const browser = new Browser();
    const arrival = await samlSignIn(browser, await artifactAuthnRequestUrl(node.issuer, intranet), spOrigin(intranet), ALICE);
    const sha1 = await resolveArtifact(`${node.issuer}/saml/artifact`, intranet, arrival.samlArt!, { sha1: true });
    assert.equal(sha1.status, 403, sha1.body);
    assert.match(sha1.body, /Fault/);
  });
});
