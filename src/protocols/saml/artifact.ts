// SAML 2.0 type 0x0004 artifacts (bindings §3.6.4): TypeCode(2) EndpointIndex(2) SourceID(20) MessageHandle(20).
// The message handle carries the issuing node's index in its last two bytes, so whichever node receives the
// ArtifactResolve knows which node holds the message, and the artifact store keys the message by the same
// routed-ID format the rest of the cluster uses.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SamlError } from './errors.js';
import { routedId } from '../../state/routed-id.js';

const TYPE_CODE = 0x0004;
const LENGTH = 44;
const HANDLE_RANDOM_BYTES = 18;

/** SourceID: SHA-1 of the issuer's entityID, as the spec requires (an identifier, not a security hash here). */
export function sourceIdFor(entityId: string): Buffer {
  return createHash('sha1').update(entityId, 'utf8').digest();
}

export function createArtifact(opts: { endpointIndex: number; idpEntityId: string; nodeIndex: number }): {
  artifact: string;
  handleKey: string;
} {
  if (!Number.isInteger(opts.endpointIndex) || opts.endpointIndex < 0 || opts.endpointIndex > 0xffff) {
    throw new RangeError(`endpoint index must be an integer 0-65535, got ${opts.endpointIndex}`);
  }
  const random = randomBytes(HANDLE_RANDOM_BYTES);
  const handleKey = routedId(opts.nodeIndex, random.toString('base64url')); // validates nodeIndex
  const bytes = Buffer.alloc(LENGTH);
  bytes.writeUInt16BE(TYPE_CODE, 0);
  bytes.writeUInt16BE(opts.endpointIndex, 2);
  sourceIdFor(opts.idpEntityId).copy(bytes, 4);
  random.copy(bytes, 24);
  bytes.writeUInt16BE(opts.nodeIndex, 24 + HANDLE_RANDOM_BYTES);
  return { artifact: bytes.toString('base64'), handleKey };
}

export function parseArtifact(
  artifact: string,
  idpEntityId: string,
): { endpointIndex: number; nodeIndex: number; handleKey: string } {
  const text = typeof artifact === 'string' ? artifact.trim() : '';
  if (text.length !== 60 || !/^[A-Za-z0-9+/]{59}=$/.test(text)) {
    throw new SamlError(400, 'ARTIFACT_INVALID', 'The artifact is not a base64-encoded SAML 2.0 artifact.');
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== LENGTH) throw new SamlError(400, 'ARTIFACT_INVALID', 'The artifact has the wrong length.');
  if (bytes.readUInt16BE(0) !== TYPE_CODE) throw new SamlError(400, 'ARTIFACT_INVALID', 'The artifact type is not 0x0004.');
  if (!timingSafeEqual(bytes.subarray(4, 24), sourceIdFor(idpEntityId))) {
    throw new SamlError(400, 'ARTIFACT_SOURCE', 'The artifact was not issued by this identity provider.');
  }
  const nodeIndex = bytes.readUInt16BE(24 + HANDLE_RANDOM_BYTES);
  return {
    endpointIndex: bytes.readUInt16BE(2),
    nodeIndex,
    handleKey: routedId(nodeIndex, bytes.subarray(24, 24 + HANDLE_RANDOM_BYTES).toString('base64url')),
  };
}
