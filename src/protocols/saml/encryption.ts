// Assertion encryption to the SP's certificate through xml-encryption: AES-256-GCM (or AES-256-CBC for SPs that
// cannot do GCM) for the content, RSA-OAEP with MGF1-SHA1 for the key, which every SAML SP library decrypts.
import { createPublicKey } from 'node:crypto';
import xmlenc from 'xml-encryption';
import { SamlError } from './errors.js';
import { NS } from './xml.js';

export type AssertionEncryption = 'aes256-gcm' | 'aes256-cbc';

const CONTENT_ALGORITHM = {
  'aes256-gcm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'aes256-cbc': 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
} as const;
const KEY_TRANSPORT = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';

export async function encryptAssertion(assertionXml: string, opts: { cert: string; algorithm: AssertionEncryption }): Promise<string> {
  let publicKey: string;
  try {
    publicKey = createPublicKey(opts.cert).export({ type: 'spki', format: 'pem' }).toString();
  } catch (err) {
    throw new SamlError(500, 'ENCRYPTION_CERTIFICATE', 'The SP encryption certificate is not usable.', undefined, { cause: err });
  }
  const encrypted = await new Promise<string>((resolve, reject) => {
    xmlenc.encrypt(
      assertionXml,
      {
        rsa_pub: publicKey,
        pem: opts.cert,
        encryptionAlgorithm: CONTENT_ALGORITHM[opts.algorithm],
        keyEncryptionAlgorithm: KEY_TRANSPORT,
        // CBC is on the library's insecure list (padding oracles on the SP side); it is an explicit per-SP choice.
        disallowEncryptionWithInsecureAlgorithm: opts.algorithm !== 'aes256-cbc',
        warnInsecureAlgorithm: false,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  }).catch((err: unknown) => {
    throw new SamlError(500, 'ENCRYPTION_FAILED', 'The assertion could not be encrypted.', undefined, { cause: err });
  });
  return `<saml:EncryptedAssertion xmlns:saml="${NS.saml}">${encrypted.trim()}</saml:EncryptedAssertion>`;
}

/** The SP side of encryptAssertion, for tests and tooling: returns the saml:Assertion XML. */
export async function decryptAssertion(encryptedXml: string, key: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    xmlenc.decrypt(encryptedXml, { key, disallowDecryptionWithInsecureAlgorithm: false, warnInsecureAlgorithm: false }, (err, result) =>
      err ? reject(new SamlError(400, 'DECRYPTION_FAILED', 'The assertion could not be decrypted.', undefined, { cause: err })) : resolve(result),
    );
  });
}
