// The back channel's security and framing, tested from the outside with real sockets: what a stranger, an eavesdropper
// and a misbehaving key holder can and cannot do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  connectRaw, frame, frameReader, nextEvent, nodeConfig, splitAddress, startCluster, stopAll, testSecret, waitFor,
} from './cluster-harness.js';
import { ClusterError } from './errors.js';
import { ClusterNode } from './node.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { BACK_CHANNEL_CIPHER_PREFERENCE, backChannelCiphers } from './transport.js';

const TLS_HANDSHAKE = 0x16;
const TLS_ALERT = 0x15;

function hello(index: number, extra: Record<string, unknown> = {}) {
  return {
    v: PROTOCOL_VERSION, type: 'hello', cluster: 'test', index, role: 'engine', address: '127.0.0.1:1',
    instanceId: `raw-${index}`, version: '0.0.0', protocol: { min: 1, max: PROTOCOL_VERSION }, ...extra,
  };
}

/** Resolves true once the socket closes, false if it is still open after timeoutMs. */
function closesWithin(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('back channel transport', () => {
  it('offers only TLS 1.2 PSK suites with forward secrecy and AEAD', async () => {
    const ciphers = backChannelCiphers().split(':');
    assert.ok(ciphers.length > 0);
    for (const c of ciphers) {
      assert.match(c, /^(ECDHE|DHE)-PSK-/, 'forward secrecy');
      assert.match(c, /(GCM|CHACHA20-POLY1305)/, 'AEAD');
    }
    assert.throws(() => backChannelCiphers(['psk-aes128-cbc-sha']), { code: 'CLUSTER_CONFIG' });

    const [node] = await startCluster(1);
    try {
      const socket = await connectRaw(node!.address, 'test', testSecret());
      assert.equal(socket.getProtocol(), 'TLSv1.2');
      assert.ok(BACK_CHANNEL_CIPHER_PREFERENCE.includes(socket.getCipher().name.toUpperCase()), socket.getCipher().name);
      assert.equal(socket.getPeerCertificate().subject, undefined, 'no certificate is involved');
      socket.destroy();
    } finally {
      await stopAll([node]);
    }
  });

  it('a node with the wrong secret cannot join: its start rejects and nobody lists it', async () => {
    const nodes = await startCluster(2);
    const intruder = new ClusterNode(nodeConfig(5, { secret: testSecret(2), initialHosts: nodes.map((n) => n.address) }));
    try {
      const rejected = nextEvent(nodes[0]!, 'connection.rejected', 3_000);
      await assert.rejects(intruder.start(), (e: unknown) =>
        e instanceof ClusterError && e.code === 'CLUSTER_AUTH' && /wrong cluster secret/.test(e.message));
      assert.match((await rejected)[0].reason, /TLS handshake failed/);
      for (const node of nodes) assert.deepEqual(node.members().map((m) => m.index), [1 - node.selfIndex]);
      assert.deepEqual(intruder.members(), []);
      // Nor can it read: a raw client with the wrong key never gets a session.
      await assert.rejects(connectRaw(nodes[0]!.address, 'test', testSecret(2)));
    } finally {
      await stopAll([...nodes, intruder]);
    }
  });

  it('the same secret under another cluster name is another key', async () => {
    const nodes = await startCluster(1);
    const stranger = new ClusterNode(nodeConfig(5, { name: 'other', initialHosts: [nodes[0]!.address] }));
    try {
      await assert.rejects(stranger.start(), { code: 'CLUSTER_AUTH' });
      await assert.rejects(connectRaw(nodes[0]!.address, 'other', testSecret()));
      assert.deepEqual(nodes[0]!.members(), []);
    } finally {
      await stopAll([...nodes, stranger]);
    }
  });

  it('a plaintext client gets no answer and is disconnected', async () => {
    const [node] = await startCluster(1);
    try {
      const [host, port] = splitAddress(node!.address);
      for (const payload of [frame(hello(9)), Buffer.from(`${JSON.stringify(hello(9))}\n`)]) {
        const socket = net.connect(port, host);
        const received: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('error', () => undefined);
        socket.write(payload);
        assert.ok(await closesWithin(socket, 3_000), 'disconnected');
        const bytes = Buffer.concat(received);
        // At most a TLS alert record; never anything of the protocol.
        assert.ok(bytes.length === 0 || bytes[0] === TLS_ALERT, `got ${bytes.toString('hex')}`);
        assert.ok(!bytes.includes('{'), 'no JSON');
      }
      assert.deepEqual(node!.members(), []);
    } finally {
      await stopAll([node]);
    }
  });

  it('a client that never starts TLS, or never says hello, is dropped after rpcTimeoutMs', async () => {
    const [node] = await startCluster(1, { rpcTimeoutMs: 300 });
    try {
      const [host, port] = splitAddress(node!.address);
      const silent = net.connect(port, host);
      silent.on('error', () => undefined);
      const quiet = await connectRaw(node!.address, 'test', testSecret());
      quiet.on('error', () => undefined);
      const [a, b] = await Promise.all([closesWithin(silent, 2_000), closesWithin(quiet, 2_000)]);
      assert.ok(a, 'silent TCP client dropped');
      assert.ok(b, 'TLS client without hello dropped');
    } finally {
      await stopAll([node]);
    }
  });

  it('puts only TLS records on the wire: an eavesdropper sees no plaintext', async () => {
    const marker = 'PLAINTEXT-MARKER-7f3a9c';
    const a = new ClusterNode(nodeConfig(0));
    const b = new ClusterNode(nodeConfig(1));
    const captured = { toServer: [] as Buffer[], toClient: [] as Buffer[] };
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const [host, port] = splitAddress(a.address);
      const upstream = net.connect(port, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => { client.destroy(); upstream.destroy(); });
      }
      client.on('data', (d: Buffer) => { captured.toServer.push(d); upstream.write(d); });
      upstream.on('data', (d: Buffer) => { captured.toClient.push(d); client.write(d); });
    });
    try {
      await a.start();
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      b.setInitialHosts([`127.0.0.1:${(proxy.address() as net.AddressInfo).port}`]);
      await b.start();
      await waitFor(() => a.aliveMembers().length === 1 && b.aliveMembers().length === 1, 3_000, 'join via proxy');
      a.handle('echo', (payload) => ({ back: `${String(payload)}-${marker}` }));
      b.handle('echo', (payload) => payload);
      assert.deepEqual(await b.call(0, 'echo', marker), { back: `${marker}-${marker}` });
      assert.equal(await a.call(1, 'echo', marker), marker);

      const toServer = Buffer.concat(captured.toServer);
      const toClient = Buffer.concat(captured.toClient);
      assert.ok(toServer.length > 0 && toClient.length > 0, 'traffic went through the proxy');
      assert.equal(toServer[0], TLS_HANDSHAKE, 'client opens with a TLS handshake record');
      assert.equal(toClient[0], TLS_HANDSHAKE, 'server answers with a TLS handshake record');
      for (const bytes of [toServer, toClient]) {
        for (const plaintext of [marker, '"hello"', '"instanceId"', '"heartbeat"', testSecret()]) {
          assert.equal(bytes.includes(plaintext), false, `${plaintext} visible on the wire`);
        }
      }
    } finally {
      await stopAll([a, b]);
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('an oversized frame closes the connection; an oversized call is refused before sending', async () => {
    const nodes = await startCluster(2, { maxFrameBytes: 8 * 1024 });
    try {
      // A key holder announcing a frame above the limit, before and after its hello.
      for (const afterHello of [false, true]) {
        const socket = await connectRaw(nodes[0]!.address, 'test', testSecret());
        socket.on('error', () => undefined);
        const reader = frameReader(socket);
        if (afterHello) {
          socket.write(frame(hello(20 + Number(afterHello))));
          await waitFor(() => reader.messages.length > 0, 2_000, 'welcome');
          assert.equal((reader.messages[0] as { type: string }).type, 'welcome');
        }
        const header = Buffer.alloc(4);
        header.writeUInt32BE(8 * 1024 + 1, 0);
        socket.write(header); // the length alone is enough: nothing of the body is buffered
        assert.ok(await closesWithin(socket, 2_000), `closed (after hello: ${afterHello})`);
      }

      nodes[1]!.handle('sink', (payload) => (payload as string).length);
      await assert.rejects(nodes[0]!.call(1, 'sink', 'x'.repeat(9 * 1024)), { code: 'CLUSTER_FRAME_TOO_LARGE' });
      assert.equal(await nodes[0]!.call(1, 'sink', 'x'.repeat(1024)), 1024, 'the connection survived');
      // A result too large to send comes back as an error instead of a silent timeout.
      nodes[1]!.handle('big', () => 'y'.repeat(9 * 1024));
      await assert.rejects(nodes[0]!.call(1, 'big'), { code: 'CLUSTER_REMOTE', remoteCode: 'CLUSTER_FRAME_TOO_LARGE' });
    } finally {
      await stopAll(nodes);
    }
  });

  it('redials a member whose back channel went away, with backoff, until it is back', async () => {
    // Node 0 reaches node 1 through a relay whose upstream can be switched: the relay's port stays bound throughout,
    // so no test races another process for a freed ephemeral port.
    const nodes = await Promise.all([0, 1].map(async (i) => {
      const node = new ClusterNode(nodeConfig(i));
      await node.listen();
      return node;
    }));
    let upstream = nodes[1]!.address;
    let attempts = 0;
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      attempts++;
      const [host, port] = splitAddress(upstream);
      const server = net.connect(port, host);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => { client.destroy(); server.destroy(); });
      }
      client.pipe(server).pipe(client);
    });
    let replacement: ClusterNode | undefined;
    try {
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      nodes[0]!.setInitialHosts([`127.0.0.1:${(relay.address() as net.AddressInfo).port}`]);
      await Promise.all(nodes.map((n) => n.start()));
      assert.equal(nodes[0]!.aliveMembers().length, 1);

      const errors: ClusterError[] = [];
      nodes[0]!.on('error', (e) => errors.push(e));
      await nodes[1]!.stop({ leave: false });
      await waitFor(() => nodes[0]!.aliveMembers().length === 0, 3_000, 'the failure');
      const attemptsBefore = attempts;
      const downSince = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      replacement = new ClusterNode(nodeConfig(1));
      await replacement.start();
      upstream = replacement.address;
      await waitFor(() => nodes[0]!.aliveMembers().some((m) => m.instanceId === replacement!.instanceId), 7_000,
        'node 0 to redial');
      const redials = attempts - attemptsBefore;
      const downMs = Date.now() - downSince;
      // Without backoff a redial loop makes hundreds of attempts a second; with it, a handful over these seconds.
      assert.ok(redials >= 2 && redials <= 2 + Math.log2(downMs / 100) + 2, `${redials} redials in ${downMs} ms`);
      assert.equal(nodes[0]!.status().state, 'quorum');
      assert.deepEqual(errors, [], 'a relay with nothing behind it is unreachable, not an authentication failure');
    } finally {
      await stopAll([...nodes, replacement]);
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
