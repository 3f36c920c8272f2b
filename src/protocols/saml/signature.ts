// XML signatures (enveloped, exclusive c14n) through xml-crypto, and the detached query-string signatures of the
// HTTP-Redirect binding through node:crypto. Verification trusts only the certificates registered for the peer and
// hands back only the bytes the signature covers, which is what defeats signature wrapping.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import type { Element } from '@xmldom/xmldom';
import { SamlError } from './errors.js';
import { NS, attr, childElements, firstChild, parseXml } from './xml.js';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const SIG_ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
} as const;
const DIGEST = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;
/** Signature algorithm URI to node:crypto hash name. */
const SIG_HASH: Record<string, string> = {
  [SIG_ALG.rsaSha256]: 'sha256',
  [SIG_ALG.rsaSha512]: 'sha512',
  [SIG_ALG.rsaSha1]: 'sha1',
};
const ID_ATTRIBUTES = ['ID', 'Id', 'id'];

/**
 * Signs the root element of `xml`: the signature goes right after the root's saml:Issuer (first child when there
 * is none), as the SAML schemas order it. To sign an Assertion that travels inside a Response, sign the assertion
 * on its own first, then build the response around the result.
 */
/**
 * The signing key parsed once and the KeyInfo built once per certificate: parsing a PEM key and an X.509
 * certificate on every signature cost about as much as a third of the RSA operation itself.
 */
const signingKeys = new Map<string, KeyObject>();
const keyInfos = new Map<string, string>();

function signingKeyOf(pem: string): KeyObject {
  let key = signingKeys.get(pem);
  if (!key) {
    if (signingKeys.size > 16) signingKeys.clear();
    key = createPrivateKey(pem);
    signingKeys.set(pem, key);
  }
  return key;
}

function keyInfoOf(cert: string): string {
  let info = keyInfos.get(cert);
  if (info === undefined) {
    if (keyInfos.size > 16) keyInfos.clear();
    info = SignedXml.getKeyInfoContent({ publicCert: cert, prefix: 'ds' }) ?? '';
    keyInfos.set(cert, info);
  }
  return info;
}

export function signXml(xml: string, opts: { key: string; cert: string; rootLocalName: string }): string {
  const doc = parseXml(xml, { maxBytes: Number.MAX_SAFE_INTEGER });
  const root = doc.documentElement!;
  if (root.localName !== opts.rootLocalName) {
    throw new SamlError(500, 'WRONG_ROOT', `Expected a ${opts.rootLocalName} to sign, got ${root.localName}.`);
  }
  const id = attr(root, 'ID');
  if (!id) throw new SamlError(500, 'MISSING_ID', `The ${root.localName} to sign has no ID.`);
  const rootPath = `/*[local-name(.)='${opts.rootLocalName}']`;
  const hasIssuer = firstChild(root, NS.saml, 'Issuer') !== undefined;
  const keyInfo = keyInfoOf(opts.cert);
  const signer = new SignedXml({
    privateKey: signingKeyOf(opts.key),
    publicCert: opts.cert,
    signatureAlgorithm: SIG_ALG.rsaSha256,
    canonicalizationAlgorithm: EXC_C14N,
    getKeyInfoContent: () => keyInfo,
  });
  signer.addReference({ xpath: rootPath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: DIGEST.sha256 });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: hasIssuer
      ? { reference: `${rootPath}/*[local-name(.)='Issuer' and namespace-uri(.)='${NS.saml}']`, action: 'after' }
      : { reference: rootPath, action: 'prepend' },
  });
  return signer.getSignedXml();
}

export interface VerifyResult {
  signed: boolean;
  /** The canonical form of exactly what was signed (signature removed); parse this, never the original. */
  verifiedXml?: string;
}

/**
 * Verifies the enveloped signature on the root element of `xml` against `certs` only (KeyInfo in the message is
 * ignored). `{ signed: false }` when the root carries no signature: whether that is acceptable is the caller's
 * policy. Everything else that is not a clean, single, whitelisted signature over the root is refused.
 */
export function verifyXmlSignature(
  xml: string,
  opts: { certs: string[]; allowSha1: boolean; rootLocalName?: string; maxBytes?: number },
): VerifyResult {
  const doc = parseXml(xml, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes });
  const root = doc.documentElement!;
  if (opts.rootLocalName !== undefined && root.localName !== opts.rootLocalName) {
    throw new SamlError(400, 'WRONG_ROOT', `Expected ${opts.rootLocalName}, got ${root.localName}.`);
  }
  const signatures = childElements(root, NS.ds, 'Signature');
  if (signatures.length === 0) return { signed: false };
  if (signatures.length > 1) throw new SamlError(403, 'SIGNATURE_WRAPPING', 'The message carries more than one signature.');
  const id = attr(root, 'ID');
  if (!id) throw new SamlError(400, 'MISSING_ID', `The ${root.localName} has no ID.`);
  if (countIdOccurrences(doc.documentElement!, id) > 1) {
    throw new SamlError(403, 'SIGNATURE_WRAPPING', 'The signed ID appears more than once in the message.');
  }
  const signature = signatures[0]!;
  checkSignedInfo(signature, id, opts.allowSha1);
  if (opts.certs.length === 0) throw new SamlError(403, 'NO_CERTIFICATE', 'No certificate is registered to verify the signature.');
  for (const cert of opts.certs) {
    const verifier = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
    try {
      verifier.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
      if (verifier.checkSignature(xml) !== true) continue;
    } catch {
      continue; // a wrong key or a broken reference: try the next registered certificate
    }
    const references = verifier.getSignedReferences();
    if (references.length !== 1) break;
    return { signed: true, verifiedXml: references[0]! };
  }
  throw new SamlError(403, 'SIGNATURE_INVALID', 'The signature does not verify with the registered certificates.');
}

function countIdOccurrences(root: Element, id: string): number {
  let count = 0;
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    for (const name of ID_ATTRIBUTES) if (attr(el, name) === id) count++;
    stack.push(...childElements(el));
  }
  return count;
}

/** One Reference to the root, exclusive c14n, and algorithms from the whitelist; refused before any crypto runs. */
function checkSignedInfo(signature: Element, id: string, allowSha1: boolean): void {
  const infos = childElements(signature, NS.ds, 'SignedInfo');
  if (infos.length !== 1) throw new SamlError(403, 'SIGNATURE_INVALID', 'The signature must have one SignedInfo.');
  const info = infos[0]!;
  const algorithm = (name: string, parent: Element = info): string | undefined => {
    const el = childElements(parent, NS.ds, name);
    return el.length === 1 ? attr(el[0]!, 'Algorithm') : undefined;
  };
  const refused = (what: string) => new SamlError(403, 'SIGNATURE_ALGORITHM', `The signature's ${what} is not accepted.`);
  if (algorithm('CanonicalizationMethod') !== EXC_C14N) throw refused('canonicalisation method');
  const signatureAlgorithms: string[] = [SIG_ALG.rsaSha256, SIG_ALG.rsaSha512, ...(allowSha1 ? [SIG_ALG.rsaSha1] : [])];
  if (!signatureAlgorithms.includes(algorithm('SignatureMethod') ?? '')) throw refused('algorithm');
  const references = childElements(info, NS.ds, 'Reference');
  if (references.length !== 1) throw new SamlError(403, 'SIGNATURE_WRAPPING', 'The signature must have exactly one Reference.');
  const reference = references[0]!;
  if (attr(reference, 'URI') !== `#${id}`) {
    throw new SamlError(403, 'SIGNATURE_WRAPPING', 'The signature does not reference the message it is attached to.');
  }
  const digests: string[] = [DIGEST.sha256, DIGEST.sha512, ...(allowSha1 ? [DIGEST.sha1] : [])];
  if (!digests.includes(algorithm('DigestMethod', reference) ?? '')) throw refused('digest algorithm');
  const transforms = childElements(reference, NS.ds, 'Transforms');
  for (const transform of transforms.flatMap((t) => childElements(t, NS.ds, 'Transform'))) {
    const uri = attr(transform, 'Algorithm');
    if (uri !== ENVELOPED && uri !== EXC_C14N) throw refused('transform');
  }
}

/** The only algorithm this IdP signs with; the parameter exists so callers name their choice. */
export type RedirectSigAlg = 'rsa-sha256';

export function redirectSigAlgUri(_alg: RedirectSigAlg = 'rsa-sha256'): string {
  return SIG_ALG.rsaSha256;
}

/** Signs the octets of a Redirect-binding query (bindings §3.4.4.1); returns SigAlg and the base64 Signature. */
export function signRedirect(signedOctets: string, key: string, _alg: RedirectSigAlg = 'rsa-sha256'): { sigAlg: string; signature: string } {
  const signature = sign('sha256', Buffer.from(signedOctets, 'utf8'), signingKeyOf(key));
  return { sigAlg: redirectSigAlgUri(_alg), signature: signature.toString('base64') };
}

/** Throws SamlError 403 unless `signature` over `signedOctets` verifies with one of `certs` and an accepted SigAlg. */
export function verifyRedirectSignature(signedOctets: string, sigAlg: string, signature: Buffer, certs: string[], allowSha1: boolean): void {
  const hash = SIG_HASH[sigAlg];
  if (hash === undefined || (hash === 'sha1' && !allowSha1)) {
    throw new SamlError(403, 'SIGNATURE_ALGORITHM', 'The signature algorithm is not accepted.');
  }
  if (certs.length === 0) throw new SamlError(403, 'NO_CERTIFICATE', 'No certificate is registered to verify the signature.');
  const data = Buffer.from(signedOctets, 'utf8');
  for (const cert of certs) {
    let key: KeyObject;
    try {
      key = createPublicKey(cert);
    } catch {
      continue; // an unusable registered certificate cannot vouch for anything
    }
    try {
      if (verify(hash, data, key, signature)) return;
    } catch {
      // a key of another type (EC) or a malformed signature: not a match
    }
  }
  throw new SamlError(403, 'SIGNATURE_INVALID', 'The signature does not verify with the registered certificates.');
}
