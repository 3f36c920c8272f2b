// Test helper: RSA keys with self-signed X.509 certificates made by openssl, cached in the temp directory so a test
// run pays for each name once. Key and certificate share one file, written aside and renamed into place, so test
// files running in parallel never read half a pair or a key from one run with the certificate of another.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKeyPair {
  /** PKCS#8 PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
}

const DIR = join(tmpdir(), 'cohort-saml-test-keys');
const cache = new Map<string, TestKeyPair>();

export function testKeys(name: string): TestKeyPair {
  const cached = cache.get(name);
  if (cached) return cached;
  const path = join(DIR, `${name}.pem`);
  if (!existsSync(path)) {
    mkdirSync(DIR, { recursive: true });
    const work = join(DIR, `${name}.${process.pid}.${Date.now()}`);
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', `/CN=${name}`, '-keyout', `${work}.key`, '-out', `${work}.crt`],
        { stdio: 'ignore' },
      );
      writeFileSync(`${work}.pem`, readFileSync(`${work}.key`, 'utf8') + readFileSync(`${work}.crt`, 'utf8'));
      renameSync(`${work}.pem`, path);
    } finally {
      for (const ext of ['key', 'crt', 'pem']) rmSync(`${work}.${ext}`, { force: true });
    }
  }
  const text = readFileSync(path, 'utf8');
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(text)?.[0];
  if (!key || !cert) throw new Error(`test key file ${path} is damaged; delete it`);
  const pair = { key, cert };
  cache.set(name, pair);
  return pair;
}
