import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { UdpPorts, type UdpPair } from '../../../../services/node/rtsp/udp-ports.ts';

// UdpPorts binds real sockets on loopback: each test picks a random even base port whose range
// is free right now (other processes may hold ports on this machine).

function bind(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

async function freeRange(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 40_000 + 2 * Math.floor(Math.random() * 9_000);
    const socks = await Promise.all(Array.from({ length: count }, (_, i) => bind(base + i)));
    for (const s of socks) s?.close();
    if (socks.every((s) => s !== null)) return base;
  }
  throw new Error('no free UDP range');
}

test('pairs are even/odd neighbours inside the range until it is used up; close() gives a pair back', async () => {
  const base = await freeRange(6);
  // An odd minimum starts at the next even port; the maximum is inclusive.
  const ports = new UdpPorts({ min: base - 1, max: base + 5 }, '127.0.0.1');
  const pairs: UdpPair[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const p = await ports.allocate('udp4');
      assert.ok(p);
      pairs.push(p);
      assert.equal(p.rtp.address().port, p.rtpPort);
      assert.equal(p.rtcp.address().port, p.rtpPort + 1);
    }
    assert.deepEqual(
      pairs.map((p) => p.rtpPort),
      [base, base + 2, base + 4],
    );
    assert.equal(ports.inUse, 3);
    assert.equal(await ports.allocate('udp4'), null, 'range exhausted');
    pairs[1]!.close();
    pairs[1]!.close();
    assert.equal(ports.inUse, 2);
    const again = await ports.allocate('udp4');
    assert.equal(again?.rtpPort, base + 2);
    pairs[1] = again!;
  } finally {
    for (const p of pairs) p.close();
  }
  assert.equal(ports.inUse, 0);
});

test('a pair whose RTP or RTCP port another socket holds is skipped', async () => {
  for (const held of [0, 1]) {
    const base = await freeRange(4);
    const other = await bind(base + held);
    assert.ok(other);
    const ports = new UdpPorts({ min: base, max: base + 3 }, '127.0.0.1');
    try {
      const p = await ports.allocate('udp4');
      assert.equal(p?.rtpPort, base + 2);
      assert.equal(await ports.allocate('udp4'), null);
      assert.equal(ports.inUse, 1, 'the failed port is not counted');
      p?.close();
    } finally {
      other.close();
    }
  }
});

test('a range too small for a pair hands out nothing', async () => {
  const ports = new UdpPorts({ min: 41_001, max: 41_001 }, '127.0.0.1');
  assert.equal(await ports.allocate('udp4'), null);
});
