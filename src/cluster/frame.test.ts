import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder } from './frame.js';

describe('frames', () => {
  it('round-trips messages split and joined at every byte boundary', () => {
    const messages = [{ type: 'a', n: 1 }, { type: 'b', text: 'héllo ✓' }, [], 'x', null];
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m, 1024)));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder(1024);
      const out = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(out, messages, `cut at ${cut}`);
      assert.equal(decoder.buffered, 0);
    }
    const decoder = new FrameDecoder(1024);
    const out: unknown[] = [];
    for (const byte of bytes) out.push(...decoder.push(Buffer.from([byte])));
    assert.deepEqual(out, messages, 'one byte at a time');
  });

  it('writes a 4-byte big-endian length before UTF-8 JSON', () => {
    const frame = encodeFrame({ k: 'é' }, 100);
    assert.equal(frame.readUInt32BE(0), Buffer.byteLength('{"k":"é"}'));
    assert.equal(frame.subarray(4).toString('utf8'), '{"k":"é"}');
  });

  it('refuses to send a frame above the limit, counted in bytes', () => {
    assert.equal(encodeFrame('é'.repeat(3), 8).length, 4 + 8); // "ééé" is 8 bytes
    assert.throws(() => encodeFrame('é'.repeat(4), 8), { code: 'CLUSTER_FRAME_TOO_LARGE' });
    assert.throws(() => encodeFrame({ n: 1n }, 100), { code: 'CLUSTER_PROTOCOL' });
    assert.throws(() => encodeFrame(undefined, 100), { code: 'CLUSTER_PROTOCOL' });
  });

  it('rejects an oversized frame from its header alone, before buffering the body', () => {
    const decoder = new FrameDecoder(16);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(17, 0);
    assert.throws(() => decoder.push(header), { code: 'CLUSTER_FRAME_TOO_LARGE' });
    const exact = new FrameDecoder(16);
    assert.deepEqual(exact.push(encodeFrame('x'.repeat(14), 16)), ['x'.repeat(14)]);
  });

  it('rejects a frame that is not JSON', () => {
    const decoder = new FrameDecoder(16);
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]);
    assert.throws(() => decoder.push(bad), { code: 'CLUSTER_PROTOCOL' });
  });
});
