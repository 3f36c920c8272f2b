import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createArtifact, parseArtifact } from './artifact.js';
import { ownerIndexOf } from '../../state/routed-id.js';
import { assertSamlError } from './test-assert.js';

const IDP = 'https://idp.example';

describe('artifacts', () => {
  it('round-trips endpoint index, node index and handle key in the type 0x0004 layout', () => {
    const { artifact, handleKey } = createArtifact({ endpointIndex: 2, idpEntityId: IDP, nodeIndex: 300 });
    const bytes = Buffer.from(artifact, 'base64');
    assert.equal(bytes.length, 44);
    assert.equal(bytes.readUInt16BE(0), 4);
    assert.deepEqual(bytes.subarray(4, 24), createHash('sha1').update(IDP).digest());
    assert.equal(bytes.readUInt16BE(42), 300);
    assert.deepEqual(parseArtifact(artifact, IDP), { endpointIndex: 2, nodeIndex: 300, handleKey });
    assert.equal(ownerIndexOf(handleKey), 300);
    assert.notEqual(createArtifact({ endpointIndex: 2, idpEntityId: IDP, nodeIndex: 300 }).handleKey, handleKey);
  });

  it('refuses bad input with 400', () => {
    const { artifact } = createArtifact({ endpointIndex: 0, idpEntityId: IDP, nodeIndex: 0 });
    assertSamlError(() => parseArtifact(artifact, 'https://other.example'), 400, 'ARTIFACT_SOURCE');
    assertSamlError(() => parseArtifact('', IDP), 400, 'ARTIFACT_INVALID');
    assertSamlError(() => parseArtifact(artifact.slice(4), IDP), 400, 'ARTIFACT_INVALID');
    assertSamlError(() => parseArtifact(`${artifact.slice(0, 10)}*${artifact.slice(11)}`, IDP), 400, 'ARTIFACT_INVALID');
    const type3 = Buffer.from(artifact, 'base64');
    type3.writeUInt16BE(3, 0);
    assertSamlError(() => parseArtifact(type3.toString('base64'), IDP), 400, 'ARTIFACT_INVALID');
  });

  it('refuses out-of-range indexes when creating', () => {
    assert.throws(() => createArtifact({ endpointIndex: 70_000, idpEntityId: IDP, nodeIndex: 0 }), RangeError);
    assert.throws(() => createArtifact({ endpointIndex: 0, idpEntityId: IDP, nodeIndex: 65_536 }), RangeError);
  });
});
