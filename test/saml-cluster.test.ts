// The SAML IdP on a cluster of three real nodes, with @node-saml/node-saml as the service providers: every binding
// through a different node, one session for SAML and OIDC, an artifact issued by one node and resolved (once) through
// another, SSO surviving the SIGKILL of the node that answered, single logout started on one node reaching SPs and
// clients signed in through another (back channel and front channel), and a signed AuthnRequest replayed on
// another node. The browser's cookie jar is shared across the nodes' ports, as behind one balanced host name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ValidateInResponseTo, type SAML } from '@node-saml/node-saml';
import { Browser } from './support/browser.js';
import { TestCluster } from './support/cluster.js';
import { runCli } from './support/processes.js';
import { jwtPayload, logoutReceiver, type LogoutReceiver } from './support/rp.js';
import { signIn } from './support/signin.js';
import { waitFor } from './support/wait.js';
import { autoPostForm, samlSignIn, TestSp } from './support/saml-sp.js';
import { artifactAuthnRequestUrl, resolveArtifact, signedArtifactResolve } from './support/saml-artifact.js';

const REDIRECT = 'http://127.0.0.1:5571/callback';
const PASSWORD = 'correct horse battery staple';
/** The username attribute (uid) Cohort puts in every assertion. */
const UID = 'urn:oid:0.9.2342.19200300.100.1.1';
const user = (username: string) => ({ username, password: PASSWORD });

describe('SAML IdP on a cluster of three', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let receiver: LogoutReceiver;
  let client: { client_id: string; client_secret: string };
  // wiki: signed Redirect requests, Redirect SLO only. crm: POST requests. intranet: artifact ACS and SOAP SLO.
  const wiki = new TestSp('wiki', { signRequests: true });
  const crm = new TestSp('crm', { requestBinding: 'HTTP-POST' });
  const intranet = new TestSp('intranet', { soapLogout: true });
  const sps = [wiki, crm, intranet];

  before(async () => {
    receiver = await logoutReceiver();
    for (const sp of sps) await sp.start();
    cluster = await TestCluster.create({ size: 3 });
    const env = cluster.env();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      assert.equal((await runCli(['users', 'add', name, '--password-stdin'], { stdin: PASSWORD, env })).code, 0);
    }
    for (const sp of sps) {
      const added = await runCli(['sps', 'add', '--metadata', sp.writeMetadata(cluster.dataDir)], { env });
      assert.equal(added.code, 0, added.stderr);
    }
    const created = await runCli(['clients', 'add', '--redirect-uri', REDIRECT, '--backchannel-logout-uri', receiver.url, '--json'], { env });
    assert.equal(created.code, 0, created.stderr);
    client = JSON.parse(created.stdout) as typeof client;
    await cluster.startAll();
    await cluster.waitReady();
    // The IdP's certificate is the same on every node (one key store): the SPs read it from node 1's metadata.
    for (const sp of sps) await sp.trustIdp(cluster.url(1));
  });

  after(async () => {
    await cluster?.stop();
    for (const sp of sps) await sp.stop();
    await receiver?.close();
  });

  const spOrigin = (sp: TestSp) => new URL(sp.acsUrl).origin;
  /** The same URL on node `index` (what a balancer does with a request to the issuer). */
  const onNode = (url: string, index: number) => new URL(new URL(url).pathname + new URL(url).search, cluster.url(index)).href;
  const artifactNode = (artifact: string) => Buffer.from(artifact, 'base64').readUInt16BE(42);
  const saml = (sp: TestSp, extra: Parameters<TestSp['saml']>[1] = {}) => sp.saml(cluster.issuer, extra);

  /** A signed ArtifactResolve addressed to the cluster's endpoint, sent to node `index`. */
  function resolveVia(index: number, sp: TestSp, artifact: string) {
    const endpoint = `${cluster.issuer}/saml/artifact`;
    return resolveArtifact(`${cluster.url(index)}/saml/artifact`, sp, artifact, { message: signedArtifactResolve(sp, artifact, endpoint) });
  }

  /** SP-initiated SSO (Redirect request, POST answer) through node `index`; returns the validated profile. */
  async function ssoPost(browser: Browser, sp: SAML, spBase: TestSp, index: number, credentials?: { username: string; password: string }) {
    const arrival = await samlSignIn(browser, await sp.getAuthorizeUrlAsync('', undefined, {}), spOrigin(spBase), credentials, cluster.url(index));
    assert.equal(arrival.sawLoginPage, Boolean(credentials), credentials ? 'a sign-in page' : 'SSO: no sign-in page');
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! });
    assert.ok(profile?.nameID && profile.sessionIndex);
    return profile;
  }

  /** OIDC authorization code flow through node `index`; returns the tokens. */
  async function oidcSignIn(browser: Browser, index: number, credentials?: { username: string; password: string }) {
    const rp = await cluster.rp(index, client.client_id, client.client_secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
    const result = await signIn(browser, url, REDIRECT, credentials, cluster.url(index));
    assert.equal(result.sawLoginPage, Boolean(credentials));
    return oidc.authorizationCodeGrant(rp, new URL(result.callbackUrl), { pkceCodeVerifier: verifier });
  }

  /** Whether an AuthnRequest through node `index` meets the sign-in page (no session) rather than an answer. */
  async function showsSignInPage(browser: Browser, sp: TestSp, index: number): Promise<boolean> {
    const page = await browser.follow(await saml(sp).getAuthorizeUrlAsync('', undefined, {}), (u) => u.startsWith(spOrigin(sp)), 15, cluster.url(index));
    if (page.location?.startsWith(spOrigin(sp)) || page.body.includes('name="SAMLResponse"')) return false;
    assert.match(page.body, /name="password"/, `neither an answer nor a sign-in page at ${page.url}`);
    return true;
  }

  /** A Redirect-binding message arriving at an SP: node-saml's validateRedirectAsync input. */
  function redirectAt(location: string | undefined, sp: TestSp) {
    assert.ok(location?.startsWith(sp.sloUrl), `a redirect to ${sp.name}'s SingleLogoutService, got ${location}`);
    const url = new URL(location!);
    return { query: Object.fromEntries(url.searchParams), raw: url.search.slice(1), relayState: url.searchParams.get('RelayState') ?? '' };
  }

  it('answers every binding through a different node; the same session then serves an OIDC client', async () => {
    const browser = new Browser();
    // Redirect AuthnRequest (signed) to node 1, answer over POST.
    const first = await samlSignIn(browser, await saml(wiki).getAuthorizeUrlAsync('relay-1', undefined, {}), spOrigin(wiki), user('alice'), cluster.url(1));
    assert.ok(first.sawLoginPage);
    assert.equal(first.relayState, 'relay-1');
    assert.equal((await saml(wiki).validatePostResponseAsync({ SAMLResponse: first.samlResponse! })).profile![UID], 'alice');

    // POST AuthnRequest through node 2: SSO.
    const form = autoPostForm(await saml(crm).getAuthorizeFormAsync('relay-2', undefined, {}));
    const second = await samlSignIn(browser, form, spOrigin(crm), undefined, cluster.url(2));
    assert.equal(second.relayState, 'relay-2');
    assert.equal((await saml(crm).validatePostResponseAsync({ SAMLResponse: second.samlResponse! })).profile![UID], 'alice');

    // Artifact answer through node 3, resolved there.
    const third = await samlSignIn(browser, await artifactAuthnRequestUrl(cluster.issuer, intranet), spOrigin(intranet), undefined, cluster.url(3));
    assert.ok(third.samlArt);
    assert.equal(artifactNode(third.samlArt!), 3, 'issued by node 3');
    const resolved = await resolveVia(3, intranet, third.samlArt!);
    assert.equal(resolved.status, 200, resolved.body);
    const { profile } = await saml(intranet, { callbackUrl: intranet.artifactAcsUrl })
      .validatePostResponseAsync({ SAMLResponse: Buffer.from(resolved.responseXml!).toString('base64') });
    assert.equal(profile![UID], 'alice');

    // An OIDC client through node 2: no sign-in page (oidcSignIn asserts it).
    assert.ok((await oidcSignIn(browser, 2)).id_token);
  });

  it('resolves an artifact issued by node 1 through node 3, exactly once', async () => {
    const arrival = await samlSignIn(new Browser(), await artifactAuthnRequestUrl(cluster.issuer, intranet), spOrigin(intranet), user('bob'), cluster.url(1));
    assert.equal(artifactNode(arrival.samlArt!), 1, 'issued by node 1');
    const first = await resolveVia(3, intranet, arrival.samlArt!);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.statusCode, 'urn:oasis:names:tc:SAML:2.0:status:Success');
    const { profile } = await saml(intranet, { callbackUrl: intranet.artifactAcsUrl })
      .validatePostResponseAsync({ SAMLResponse: Buffer.from(first.responseXml!).toString('base64') });
    assert.ok(profile?.nameID);
    for (const index of [3, 2, 1]) {
      const again = await resolveVia(index, intranet, arrival.samlArt!);
      assert.equal(again.status, 200, again.body);
      assert.equal(again.responseXml, undefined, `a second resolve through node ${index} returns no message`);
    }
  });

  it('refuses a signed AuthnRequest replayed on another node', async () => {
    const url = await saml(wiki).getAuthorizeUrlAsync('', undefined, {});
    assert.match(url, /Signature=/);
    const browser = new Browser();
    const first = await browser.get(onNode(url, 1));
    assert.equal(first.status, 303, first.body);
    const replayed = await browser.get(onNode(url, 2));
    assert.equal(replayed.status, 403, replayed.body);
    assert.match(replayed.body, /already used/);
  });

  it('single logout through node 2 reaches, over the back channel, an SP and an OIDC client signed in through node 1', async () => {
    const browser = new Browser();
    const intranetProfile = await ssoPost(browser, saml(intranet), intranet, 1, user('carol'));
    // Between the two SAML sign-ins on purpose: the OIDC consent renews the session's id, and intranet's
    // registration for logout must survive that.
    const tokens = await oidcSignIn(browser, 1);
    const crmSp = saml(crm, { validateInResponseTo: ValidateInResponseTo.ifPresent });
    const crmProfile = await ssoPost(browser, crmSp, crm, 1);
    const soapBefore = intranet.soapLogouts.length;
    const tokensBefore = receiver.tokens.length;

    const answer = await browser.get(onNode(await crmSp.getLogoutUrlAsync(crmProfile, 'bye-crm', {}), 2));
    assert.equal(answer.status, 303, answer.body);
    const back = redirectAt(answer.location, crm);
    assert.equal(back.relayState, 'bye-crm');
    // Checks the IdP's signature, the Success status, and InResponseTo against the request crm sent.
    const validated = await crmSp.validateRedirectAsync(back.query, back.raw);
    assert.equal(validated.loggedOut, true);

    const soap = await waitFor('SOAP LogoutRequest at intranet', () => intranet.soapLogouts[soapBefore], 5_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${cluster.nodes.get(2)!.logs.filter((l) => /saml|session|logout/.test(l)).slice(-10).join('\n')}`);
    });
    assert.ok(soap.includes(intranetProfile.nameID), 'the LogoutRequest names intranet\'s NameID');
    const token = await waitFor('back-channel logout token', () => receiver.tokens[tokensBefore]);
    assert.equal(jwtPayload(token).sub, tokens.claims()!.sub);
    for (const index of [1, 3]) assert.equal(await showsSignInPage(browser, wiki, index), true, `session gone at node ${index}`);
  });

  it('single logout through node 2 visits a Redirect-only SP in the browser; its answer through node 3 completes the chain', async () => {
    const browser = new Browser();
    const wikiSp = saml(wiki);
    const wikiProfile = await ssoPost(browser, wikiSp, wiki, 1, user('dave'));
    const crmSp = saml(crm, { validateInResponseTo: ValidateInResponseTo.ifPresent });
    const crmProfile = await ssoPost(browser, crmSp, crm, 1);

    const step = await browser.get(onNode(await crmSp.getLogoutUrlAsync(crmProfile, 'bye-crm', {}), 2));
    assert.equal(step.status, 303, step.body);
    const request = redirectAt(step.location, wiki);
    assert.ok(request.query.SAMLRequest, 'a LogoutRequest for wiki');
    const { profile } = await wikiSp.validateRedirectAsync(request.query, request.raw);
    assert.equal(profile!.nameID, wikiProfile.nameID);
    assert.equal(profile!.sessionIndex, wikiProfile.sessionIndex);

    const response = await wikiSp.getLogoutResponseUrlAsync(profile!, request.relayState, {}, true);
    const done = await browser.get(onNode(response, 3));
    assert.equal(done.status, 303, done.body);
    const back = redirectAt(done.location, crm);
    assert.ok(back.query.SAMLResponse);
    assert.equal(back.relayState, 'bye-crm');
    assert.equal((await crmSp.validateRedirectAsync(back.query, back.raw)).loggedOut, true);

    // The chain's step is used up: the same LogoutResponse again is refused.
    assert.equal((await browser.get(onNode(response, 1))).status, 400);
    assert.equal(await showsSignInPage(browser, crm, 1), true, 'a new SSO attempt shows the sign-in page');
  });

  it('keeps SSO after the node that answered is SIGKILLed', async () => {
    const browser = new Browser();
    await ssoPost(browser, saml(wiki), wiki, 1, user('erin'));
    await cluster.kill(1);
    for (const index of [2, 3]) {
      await waitFor(`node ${index} to see node 1 dead`, async () =>
        (await cluster.status(index)).ClusterStatus.members.find((m) => m.index === 1)?.state === 'dead', 15_000);
    }
    const form = autoPostForm(await saml(crm).getAuthorizeFormAsync('', undefined, {}));
    const arrival = await samlSignIn(browser, form, spOrigin(crm), undefined, cluster.url(2));
    assert.equal(arrival.sawLoginPage, false, 'no sign-in page through node 2');
    assert.ok((await saml(crm).validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! })).profile?.nameID);
  });

  it('ends with every node healthy', async () => {
    await cluster.start(1);
    await cluster.waitReady([1, 2, 3]);
    for (const index of [1, 2, 3]) {
      // Bounded: the restarted node's state catch-up may still be finishing when lbstatus first says OK.
      const status = await waitFor(`every component of node ${index} OK`, async () => {
        const body = await cluster.status(index);
        return Object.values(body.components as Record<string, { status: string }>).every((c) => c.status === 'OK') && body;
      });
      assert.equal(status.ClusterStatus.state, 'quorum', `node ${index}`);
      assert.equal(status.ClusterStatus.members.filter((m) => m.state === 'alive').length, 3);
      assert.equal(await cluster.lbStatus(index), 200);
    }
  });
});
