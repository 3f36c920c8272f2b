// Drives Cohort's sign-in pages as a person would: load the authorization URL, fill in the form, allow consent,
// and stop at the relying party's redirect URI. Reports whether a sign-in page was shown (SSO tests assert on it).
import assert from 'node:assert/strict';
import type { Browser, Response } from './browser.js';
import { formAction, hiddenField } from './browser.js';

export interface SignInResult {
  callbackUrl: string;
  sawLoginPage: boolean;
  sawConsentPage: boolean;
}

export async function signIn(
  browser: Browser,
  authorizationUrl: string,
  redirectUri: string,
  credentials?: { username: string; password: string },
  /** Base URL the sign-in pages are loaded from (another node of the cluster); default: the authorization URL's. */
  via?: string,
): Promise<SignInResult> {
  const isCallback = (url: string) => url.startsWith(redirectUri);
  const rebase = (url: string) => (via ? new URL(new URL(url).pathname + new URL(url).search, via).href : url);
  let sawLoginPage = false;
  let sawConsentPage = false;
  let res: Response = await browser.get(rebase(authorizationUrl));
  for (let step = 0; step < 12; step++) {
    if (res.location) {
      if (isCallback(res.location)) return { callbackUrl: res.location, sawLoginPage, sawConsentPage };
      res = await browser.get(rebase(res.location));
      continue;
    }
    assert.equal(res.status, 200, `unexpected ${res.status} at ${res.url}: ${res.body.slice(0, 500)}`);
    const base = res.url;
    if (res.body.includes('name="password"')) {
      assert.ok(credentials, `a sign-in page was shown at ${res.url} but the test expected SSO`);
      sawLoginPage = true;
      res = await browser.post(new URL(formAction(res.body, '/login'), base).href, {
        csrf: hiddenField(res.body, 'csrf'), username: credentials.username, password: credentials.password,
      });
      continue;
    }
    if (res.body.includes('/confirm"')) {
      sawConsentPage = true;
      res = await browser.post(new URL(formAction(res.body, '/confirm'), base).href, { csrf: hiddenField(res.body, 'csrf') });
      continue;
    }
    throw new Error(`unexpected page at ${res.url}:\n${res.body.slice(0, 1500)}`);
  }
  throw new Error('sign-in did not finish within 12 steps');
}
