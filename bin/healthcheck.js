#!/usr/bin/env node
// @ts-check
// The container's health probe (deploy/Dockerfile HEALTHCHECK): GET /healthz of this container's
// Sluice; exit 0 on 200, 1 otherwise. Where: the URL given as the first argument; else the address
// of SLUICE_API_LISTEN (media nodes) or SLUICE_SCHEDULER_LISTEN (the scheduler); then port 8083
// (a media node's API), then 8090 (the scheduler's). A port nothing listens on is skipped; the
// first answer decides.
const TIMEOUT_MS = 2000;

/** `host:port`, `:port` or `[v6]:port` to a /healthz URL; every-interface hosts become loopback. */
function healthUrl(/** @type {string} */ listen) {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) return null;
  const host = m[1] ?? m[2] ?? '';
  const target = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${target.includes(':') ? `[${target}]` : target}:${m[3]}/healthz`;
}

const fromEnv = [process.env.SLUICE_API_LISTEN, process.env.SLUICE_SCHEDULER_LISTEN]
  .map((l) => (l ? healthUrl(l) : null))
  .filter((u) => u !== null);
const given = process.argv[2];
// The image sets SLUICE_API_LISTEN for every role: the defaults follow, so a scheduler answers too.
const urls = given ? [given] : [...new Set([...fromEnv, ...[':8083', ':8090'].map((l) => healthUrl(l))])];

for (const url of urls) {
  if (!url) continue;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    process.stdout.write(`${url}: ${res.status}\n`);
    process.exit(res.status === 200 ? 0 : 1);
  } catch (e) {
    process.stdout.write(`${url}: ${String(/** @type {Error} */ (e).cause ?? e)}\n`);
  }
}
process.exit(1);
