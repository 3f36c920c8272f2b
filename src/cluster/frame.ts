// Length-prefixed frames: a 4-byte big-endian payload length, then that many bytes of UTF-8 JSON. The length is
// checked against the limit as soon as its 4 bytes arrive, so a peer cannot make this node buffer an oversized frame.
import { ClusterError } from './errors.js';

export const FRAME_HEADER_BYTES = 4;

/** Serialises one message into a frame; refuses (CLUSTER_FRAME_TOO_LARGE) rather than send what the peer would drop. */
export function encodeFrame(message: unknown, maxFrameBytes: number): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(message);
  } catch (cause) {
    throw new ClusterError('CLUSTER_PROTOCOL', 'message is not JSON-serialisable', { cause });
  }
  if (json === undefined) throw new ClusterError('CLUSTER_PROTOCOL', 'message is not JSON-serialisable');
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxFrameBytes) {
    throw new ClusterError('CLUSTER_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds maxFrameBytes ${maxFrameBytes}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/**
 * Reassembles frames from arbitrary chunks. Chunks are kept in a list and joined once per frame, so a large frame
 * arriving in many small chunks costs linear, not quadratic, copying.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Payload length of the frame being read, once its header is complete. */
  #expected: number | undefined;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns the parsed JSON values of every frame it completes, in order. Throws
   * CLUSTER_FRAME_TOO_LARGE or CLUSTER_PROTOCOL; after a throw the stream is unusable and must be closed.
   */
  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const messages: unknown[] = [];
    for (;;) {
      if (this.#expected === undefined) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const length = this.#take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.#maxFrameBytes) {
          throw new ClusterError('CLUSTER_FRAME_TOO_LARGE',
            `peer announced a frame of ${length} bytes, above maxFrameBytes ${this.#maxFrameBytes}`);
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      const payload = this.#take(this.#expected);
      this.#expected = undefined;
      try {
        messages.push(JSON.parse(payload.toString('utf8')));
      } catch (cause) {
        throw new ClusterError('CLUSTER_PROTOCOL', 'frame is not valid JSON', { cause });
      }
    }
    return messages;
  }

  /** Removes exactly n buffered bytes (n <= buffered) from the front. */
  #take(n: number): Buffer {
    const joined = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}
