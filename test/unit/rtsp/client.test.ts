import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import {
  parseTransports,
  redactUrl,
  requestUrl,
  RtspAuthenticator,
  RtspClient,
  RtspClientError,
  type RtspClientOptions,
  type RtspRequest,
} from '../../../libs/rtsp/index.ts';
import { rtpPacket, ScriptedServer, SDP, type Script, type ScriptedAnswer } from './scripted-server.ts';

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A camera: OPTIONS, DESCRIBE (with `auth` if given), SETUP (session `sessionHeader`), PLAY, keep-alives, TEARDOWN. */
function camera(
  o: {
    auth?: RtspAuthenticator;
    sessionHeader?: string;
    publicMethods?: string;
    contentBase?: string;
    onPlay?: (req: RtspRequest, conn: Parameters<Script>[1]) => void;
    silent?: string[];
  } = {},
): Script {
  return (req, conn) => {
    if (o.silent?.includes(req.method)) return null;
    if (o.auth && req.method !== 'OPTIONS') {
      const v = o.auth.verify(req.method, req.uri, req.headers.get('authorization'));
      if (v !== 'ok')
        return {
          status: 401,
          headers: o.auth.challenge().map((c): [string, string] => ['WWW-Authenticate', c]),
        };
    }
    const session: [string, string] = ['Session', o.sessionHeader ?? 'S1;timeout=60'];
    switch (req.method) {
      case 'OPTIONS':
        return {
          status: 200,
          headers: [['Public', o.publicMethods ?? 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']],
        };
      case 'DESCRIBE':
        return {
          status: 200,
          headers: [
            ['Content-Type', 'application/sdp'],
            ['Content-Base', o.contentBase ?? `rtsp://127.0.0.1/live/cam/`],
          ],
          body: SDP,
        };
      case 'SETUP': {
        const t = parseTransports(req.headers.get('transport')!)[0]!;
        const answer =
          t.protocol === 'tcp'
            ? `RTP/AVP/TCP;unicast;interleaved=${t.interleaved![0]}-${t.interleaved![1]}`
            : `RTP/AVP;unicast;client_port=${t.clientPort![0]}-${t.clientPort![1]};server_port=40000-40001`;
        return { status: 200, headers: [session, ['Transport', answer]] };
      }
      case 'PLAY':
        setImmediate(() => o.onPlay?.(req, conn));
        return { status: 200, headers: [session] };
      default:
        return { status: 200, headers: [session] } satisfies ScriptedAnswer;
    }
  };
}

async function serve(script: Script): Promise<ScriptedServer> {
  const s = await ScriptedServer.start(script);
  servers.push(s);
  return s;
}

function client(
  s: ScriptedServer,
  o: Partial<RtspClientOptions> & { userinfo?: string } = {},
): {
  c: RtspClient;
  closed: Promise<Error | null>;
} {
  let done!: (e: Error | null) => void;
  const closed = new Promise<Error | null>((r) => (done = r));
  const userinfo = o.userinfo !== undefined ? `${o.userinfo}@` : '';
  const c = new RtspClient({
    url: `rtsp://${userinfo}127.0.0.1:${s.port}/live/cam`,
    requestTimeoutMs: 1000,
    ...o,
    onClose: (e) => done(e),
  });
  return { c, closed };
}

const creds = [{ username: 'admin', password: 'p@ss word' }];

for (const row of [
  { name: 'digest', methods: ['digest'] as const, scheme: /^Digest / },
  { name: 'basic', methods: ['basic'] as const, scheme: /^Basic / },
]) {
  test(`DESCRIBE follows a ${row.name} challenge with the URL's percent-decoded credentials`, async () => {
    const auth = new RtspAuthenticator({ realm: 'cam', methods: [...row.methods], credentials: creds });
    const s = await serve(camera({ auth }));
    const { c, closed } = client(s, { userinfo: 'admin:p%40ss%20word' });
    const tracks = await c.open();
    assert.deepEqual(
      tracks.map((t) => t.codec.codec),
      ['h264', 'aac'],
    );
    // Content-Base + a=control (RFC 2326 §C.1.1).
    assert.deepEqual(
      tracks.map((t) => t.url),
      ['rtsp://127.0.0.1/live/cam/trackID=0', 'rtsp://127.0.0.1/live/cam/trackID=1'],
    );
    await c.play([0, 1]);
    const reqs = s.connections[0]!.requests;
    assert.deepEqual(
      reqs.map((r) => r.method),
      ['OPTIONS', 'DESCRIBE', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY'],
    );
    // Request lines never carry the userinfo; later requests reuse the scheme.
    assert.ok(reqs.every((r) => !r.uri.includes('admin')));
    assert.equal(reqs[1]!.headers.get('authorization'), undefined);
    for (const r of reqs.slice(2)) assert.match(r.headers.get('authorization') ?? '', row.scheme);
    assert.equal(reqs[4]!.headers.get('session'), 'S1');
    await c.close();
    assert.equal(await closed, null);
    assert.equal(s.methods.at(-1), 'TEARDOWN');
  });
}

test('a second 401 (wrong password) and a 401 without credentials are auth failures', async () => {
  const auth = new RtspAuthenticator({ realm: 'cam', methods: ['digest', 'basic'], credentials: creds });
  for (const userinfo of ['admin:wrong', undefined]) {
    const s = await serve(camera({ auth }));
    const { c, closed } = client(s, userinfo !== undefined ? { userinfo } : {});
    await assert.rejects(
      c.open(),
      (e: unknown) => e instanceof RtspClientError && e.code === 'RTSP_AUTH_FAILED',
    );
    const err = await closed;
    assert.ok(err instanceof RtspClientError && err.code === 'RTSP_AUTH_FAILED');
    assert.equal(s.methods.filter((m) => m === 'DESCRIBE').length, userinfo ? 2 : 1);
  }
});

test('Session timeout sets the keep-alive interval; GET_PARAMETER when Public lists it, else OPTIONS', async () => {
  for (const row of [
    { publicMethods: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER', keepalive: 'GET_PARAMETER' },
    { publicMethods: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN', keepalive: 'OPTIONS' },
  ]) {
    const s = await serve(
      camera({
        sessionHeader: 'abc123;timeout=2',
        publicMethods: row.publicMethods,
        // RTP keeps coming so the read timeout stays quiet.
        onPlay: (_req, conn) => {
          let seq = 0;
          const t = setInterval(
            () => conn.interleaved(0, rtpPacket(96, seq++, 0, 1, Buffer.from([0x09, 0xf0]))),
            100,
          );
          conn.socket.once('close', () => clearInterval(t));
        },
      }),
    );
    const { c } = client(s, { readTimeoutMs: 5000 });
    await c.open();
    await c.play([0]);
    assert.equal(c.sessionId, 'abc123');
    assert.equal(c.keepaliveMs, 1000);
    await new Promise((r) => setTimeout(r, 1300));
    const reqs = s.connections[0]!.requests;
    const ka = reqs.slice(reqs.findIndex((r) => r.method === 'PLAY') + 1);
    assert.equal(ka[0]?.method, row.keepalive, 'one keep-alive after about 1 s');
    assert.equal(ka[0]?.headers.get('session'), 'abc123');
    await c.close();
  }
});

test('interleaved RTP and RTCP reach onRtp/onRtcp by track; silence then ends the session (read timeout)', async () => {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  const sent = [
    rtpPacket(96, 1, 1000, 7, Buffer.from([0x65, 1, 2, 3])),
    rtpPacket(97, 9, 2000, 8, Buffer.from([0, 16, 0, 0])),
  ];
  const s = await serve(
    camera({
      onPlay: (_req, conn) => {
        conn.interleaved(0, sent[0]!);
        conn.interleaved(1, sr);
        conn.interleaved(2, sent[1]!);
        conn.interleaved(9, sent[1]!); // a channel never set up: ignored
      },
    }),
  );
  const rtp: [number, Buffer][] = [];
  const rtcp: number[] = [];
  const { c, closed } = client(s, {
    readTimeoutMs: 400,
    onRtp: (i, p) => rtp.push([i, Buffer.from(p)]),
    onRtcp: (i) => rtcp.push(i),
  });
  await c.open();
  await c.play([0, 1]);
  const err = await closed;
  assert.deepEqual(rtp, [
    [0, sent[0]],
    [1, sent[1]],
  ]);
  assert.deepEqual(rtcp, [0]);
  assert.ok(err instanceof RtspClientError && err.code === 'RTSP_READ_TIMEOUT', String(err));
});

test('a request without an answer times out and ends the session', async () => {
  const s = await serve(camera({ silent: ['DESCRIBE'] }));
  const { c, closed } = client(s, { requestTimeoutMs: 300 });
  const t0 = performance.now();
  await assert.rejects(c.open(), (e: unknown) => e instanceof RtspClientError && e.code === 'RTSP_TIMEOUT');
  assert.ok(performance.now() - t0 < 1500);
  assert.ok((await closed) instanceof RtspClientError);
});

test('a refused request is RTSP_STATUS with its status; a refused connection is RTSP_NETWORK', async () => {
  const s = await serve((req) => (req.method === 'DESCRIBE' ? { status: 404 } : { status: 200 }));
  const { c } = client(s);
  await assert.rejects(
    c.open(),
    (e: unknown) => e instanceof RtspClientError && e.code === 'RTSP_STATUS' && e.status === 404,
  );
  const port = s.port;
  await s.close();
  servers.splice(servers.indexOf(s), 1);
  const gone = new RtspClient({ url: `rtsp://127.0.0.1:${port}/x/y`, requestTimeoutMs: 1000 });
  await assert.rejects(
    gone.open(),
    (e: unknown) => e instanceof RtspClientError && e.code === 'RTSP_NETWORK',
  );
});

test("UDP: SETUP offers an even/odd client_port pair; the server's datagrams reach onRtp", async () => {
  let clientPort = 0;
  const s = await serve((req, conn) => {
    const answer = camera()(req, conn);
    if (req.method === 'SETUP')
      clientPort = parseTransports(req.headers.get('transport')!)[0]!.clientPort![0];
    return answer;
  });
  const got: Buffer[] = [];
  const { c } = client(s, { transport: 'udp', onRtp: (_i, p) => got.push(Buffer.from(p)) });
  await c.open();
  await c.play([0]);
  assert.equal(clientPort % 2, 0);
  const pkt = rtpPacket(96, 5, 0, 3, Buffer.from([0x65, 0]));
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.send(pkt, clientPort, '127.0.0.1', () => r()));
  for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  sock.close();
  assert.deepEqual(got, [pkt]);
  await c.close();
});

test('URLs: requests drop the userinfo, logs hide the password', () => {
  const rows = [
    ['rtsp://u:p%40w@h:554/a/b?x=1', 'rtsp://h:554/a/b?x=1', 'rtsp://u:***@h:554/a/b?x=1'],
    ['rtsps://h/a/b', 'rtsps://h/a/b', 'rtsps://h/a/b'],
    ['rtsp://u@[::1]:5544/a', 'rtsp://[::1]:5544/a', 'rtsp://u:***@[::1]:5544/a'],
    ['RTSP://u:a@b@h/x', 'RTSP://h/x', 'RTSP://u:***@h/x'],
  ] as const;
  for (const [url, req, log] of rows) {
    assert.equal(requestUrl(url), req);
    assert.equal(redactUrl(url), log);
  }
});

test('receiver report state: extended sequence across a wrap, losses, LSR/DLSR', async () => {
  const { TrackReception } = await import('../../../libs/rtsp/client-reception.ts');
  const r = new TrackReception();
  assert.equal(r.reportBlock(0), null);
  for (const seq of [65533, 65534, 65535, 0, 2, 1, 3]) r.rtp(9, seq); // 1 late, none lost
  r.senderReport(0x0001_2345, 0x6789_0000, 1000);
  const b = r.reportBlock(1500)!;
  assert.equal(b.ssrc, 9);
  assert.equal(b.highestSequence, 0x10000 + 3);
  assert.equal(b.cumulativeLost, 0);
  assert.equal(b.lastSr, 0x2345_6789);
  assert.equal(b.delaySinceLastSr, 32768); // 0.5 s in 1/65536 s
  for (const seq of [8, 9]) r.rtp(9, seq); // 4..7 lost
  const b2 = r.reportBlock(2000)!;
  assert.equal(b2.cumulativeLost, 4);
  assert.equal(b2.fractionLost, Math.floor((4 * 256) / 6));
});
