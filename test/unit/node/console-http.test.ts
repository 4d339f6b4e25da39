import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { CONSOLE_CSP, ConsoleHttp, nodeConsoleEnv } from '../../../services/node/console-http.ts';

// The console's handler on a real loopback server: the allow-list, the headers, and that
// nothing outside the list (traversal in any spelling) is served.

let server: Server;
let port = 0;

before(async () => {
  const consoleHttp = new ConsoleHttp({
    log: pino({ level: 'silent' }),
    redirectRoot: true,
    env: () => nodeConsoleEnv('n1', { http: '127.0.0.1:8080', https: '[::1]:4433' }),
  });
  server = createServer((req, res) => {
    if (!consoleHttp.handle(req, res)) res.writeHead(418).end('not the console');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The path goes on the wire exactly as given (no client-side normalisation). */
function get(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('the page, its modules and both player libraries, with CSP and nosniff', async () => {
  for (const [path, type] of [
    ['/console/', 'text/html'],
    ['/console/main.js', 'text/javascript'],
    ['/console/api.js', 'text/javascript'],
    ['/console/model.js', 'text/javascript'],
    ['/console/render.js', 'text/javascript'],
    ['/console/preview.js', 'text/javascript'],
    ['/console/console.css', 'text/css'],
    ['/console/vendor/hls.min.js', 'text/javascript'],
    ['/console/vendor/mpegts.js', 'text/javascript'],
  ] as const) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.ok(r.headers['content-type']?.startsWith(type), `${path}: ${r.headers['content-type']}`);
    assert.equal(r.headers['content-security-policy'], CONSOLE_CSP, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.ok(r.body.length > 0, path);
  }
  assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/);
  assert.match(CONSOLE_CSP, /media-src 'self' blob:/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-(inline|eval)/);
});

test('nothing outside the list: traversal in any spelling is a 404', async () => {
  for (const path of [
    '/console/../package.json',
    '/console/..%2f..%2fpackage.json',
    '/console/%2e%2e/%2e%2e/package.json',
    '/console/vendor/../../../../etc/passwd',
    '/console/vendor/..%5c..%5cpackage.json',
    '/console//etc/passwd',
    '/console/index.html',
    '/console/main.js/',
    '/console/Main.js',
    '/console/vendor/hls.js',
    '/console/vendor/',
    '/console/console-http.ts',
    '/console/%00',
  ]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
  }
});

test('/ and /console redirect to /console/; other paths and methods are not the console', async () => {
  for (const path of ['/', '/console', '/console?x=1']) {
    const r = await get(path);
    assert.equal(r.status, 302, path);
    assert.equal(r.headers.location, '/console/');
  }
  assert.equal((await get('/api/stat/all_group')).status, 418);
  assert.equal((await get('/consoles/')).status, 418);
  assert.equal((await get('/console/', 'POST')).status, 418);
});

test('env.json: the HTTP listeners ports, never cached', async () => {
  const r = await get('/console/env.json');
  assert.equal(r.status, 200);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(r.body.toString()), {
    kind: 'node',
    nodeId: 'n1',
    media: { httpPort: 8080, httpsPort: 4433 },
  });
});

test('HEAD, ETag revalidation and gzip', async () => {
  const full = await get('/console/vendor/mpegts.js');
  const head = await get('/console/vendor/mpegts.js', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers['content-length'], String(full.body.length));
  const etag = full.headers.etag!;
  assert.equal((await get('/console/vendor/mpegts.js', 'GET', { 'If-None-Match': etag })).status, 304);
  const gz = await get('/console/vendor/mpegts.js', 'GET', { 'Accept-Encoding': 'gzip, br' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(gz.body.length < full.body.length / 2);
  assert.deepEqual(gunzipSync(gz.body), full.body);
});
