import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from './cluster-harness.js';
import { SocketConnection } from './connection.js';
import type { ClusterError } from './errors.js';

/** A connected pair of plain TCP sockets: SocketConnection does not care what authenticates the stream. */
async function socketPair(): Promise<{ a: net.Socket; b: net.Socket; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const b = await accepted;
  await new Promise((resolve) => a.once('connect', resolve));
  return { a, b, close: async () => {
    a.destroy();
    b.destroy();
    await new Promise((resolve) => server.close(resolve));
  } };
}

const options = { maxFrameBytes: 64 * 1024, maxBufferedBytes: 128 * 1024 };

describe('SocketConnection', () => {
  it('delivers messages in order, including those that arrived before a listener was set', async () => {
    const pair = await socketPair();
    try {
      const sender = new SocketConnection(pair.a, 'b', 'outbound', options);
      const receiver = new SocketConnection(pair.b, 'a', 'inbound', options);
      sender.send({ n: 1 });
      sender.send({ n: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const got: unknown[] = [];
      receiver.onMessage((m) => got.push(m));
      sender.send({ n: 3 });
      await waitFor(() => got.length === 3, 2_000, 'three messages');
      assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await pair.close();
    }
  });

  it('holds messages while one consumer hands over to the next, losing none', async () => {
    const pair = await socketPair();
    try {
      const sender = new SocketConnection(pair.a, 'b', 'outbound', options);
      const receiver = new SocketConnection(pair.b, 'a', 'inbound', options);
      const first: unknown[] = [];
      const second: unknown[] = [];
      receiver.onMessage((m) => {
        first.push(m);
        receiver.onMessage(undefined); // like the handshake: one message, then hold
      });
      pair.a.write(Buffer.concat([1, 2, 3].map((n) => {
        const body = Buffer.from(JSON.stringify({ n }));
        const header = Buffer.alloc(4);
        header.writeUInt32BE(body.length, 0);
        return Buffer.concat([header, body]);
      }))); // three frames in one write
      await waitFor(() => first.length === 1, 2_000, 'the first message');
      await new Promise((resolve) => setTimeout(resolve, 20));
      receiver.onMessage((m) => second.push(m));
      assert.deepEqual(first, [{ n: 1 }]);
      assert.deepEqual(second, [{ n: 2 }, { n: 3 }]);
      sender.destroy();
    } finally {
      await pair.close();
    }
  });

  it('refuses to buffer without bound when the peer stops reading', async () => {
    const pair = await socketPair();
    try {
      const sender = new SocketConnection(pair.a, 'b', 'outbound', options);
      pair.b.pause(); // the peer reads nothing: kernel buffers fill, then ours
      const chunk = { data: 'x'.repeat(32 * 1024) };
      let sent = 0;
      let error: ClusterError | undefined;
      for (; sent < 50_000 && !error; sent++) {
        try {
          sender.send(chunk);
        } catch (e) {
          error = e as ClusterError;
        }
        if (sent % 64 === 0) await new Promise((resolve) => setImmediate(resolve)); // let libuv flush to the kernel
      }
      assert.equal(error?.code, 'CLUSTER_OVERLOADED', `no backpressure after ${sent} frames`);
      assert.ok(pair.a.writableLength <= options.maxBufferedBytes, 'our buffer stayed within its bound');
      assert.equal(sender.closed, false, 'a full buffer is not a broken connection');
    } finally {
      await pair.close();
    }
  });

  it('closes on an oversized or malformed frame and reports why, once', async () => {
    for (const bytes of [Buffer.from([0, 1, 0, 1]), Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{x')])]) {
      const pair = await socketPair();
      try {
        const receiver = new SocketConnection(pair.b, 'a', 'inbound', options);
        const reasons: Array<ClusterError | undefined> = [];
        receiver.onClose((reason) => reasons.push(reason));
        pair.a.write(bytes);
        await waitFor(() => reasons.length > 0, 2_000, 'close');
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(reasons.length, 1);
        assert.match(reasons[0]!.code, /^CLUSTER_(FRAME_TOO_LARGE|PROTOCOL)$/);
        assert.equal(receiver.closed, true);
        assert.throws(() => receiver.send({}), { code: 'CLUSTER_UNREACHABLE' });
        let late: ClusterError | undefined | null = null;
        receiver.onClose((reason) => { late = reason; });
        await waitFor(() => late !== null, 1_000, 'a listener added after close still hears of it');
      } finally {
        await pair.close();
      }
    }
  });

  it('close() flushes what was queued before ending', async () => {
    const pair = await socketPair();
    try {
      const sender = new SocketConnection(pair.a, 'b', 'outbound', options);
      const receiver = new SocketConnection(pair.b, 'a', 'inbound', options);
      const got: unknown[] = [];
      receiver.onMessage((m) => got.push(m));
      let closed = false;
      receiver.onClose(() => { closed = true; });
      sender.send({ type: 'leave' });
      sender.close();
      await waitFor(() => closed, 2_000, 'close');
      assert.deepEqual(got, [{ type: 'leave' }]);
    } finally {
      await pair.close();
    }
  });
});
