// @ts-nocheck -- plain data shaping, no DOM: the unit tests import it under Node.
// What the console shows, from the API's JSON (lal's /api/stat/* shapes and Sluice's /api/v1).

/** A stream's key from a lal group: `app_name/stream_name` unless the name already has the app. */
export function keyOfGroup(g) {
  const name = String(g.stream_name ?? '');
  const app = String(g.app_name ?? '');
  return name.includes('/') || app === '' ? name : `${app}/${name}`;
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v) {
  return typeof v === 'string' ? v : '';
}

/** A lal session object, or null when it is lal's empty placeholder (no protocol). */
function sessionOf(s) {
  if (!s || typeof s !== 'object' || !str(s.protocol)) return null;
  return {
    id: str(s.session_id),
    protocol: str(s.protocol),
    remote: str(s.remote_addr),
    since: str(s.start_time),
    bitrateKbps: num(s.bitrate_kbits) ?? num(s.read_bitrate_kbits) ?? num(s.bitrate),
  };
}

/** Viewer counts by protocol, most first, then by name. */
export function viewersByProtocol(subs) {
  const counts = new Map();
  for (const s of Array.isArray(subs) ? subs : []) {
    const p = str(s && s.protocol) || '?';
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** Rows of the streams table from /api/stat/all_group, sorted by key. */
export function streamsFromAllGroup(body) {
  const groups = body && body.data && Array.isArray(body.data.groups) ? body.data.groups : [];
  return groups
    .filter((g) => g && typeof g === 'object')
    .map((g) => {
      const pub = sessionOf(g.pub);
      const pull = sessionOf(g.pull);
      const source = pub ?? pull;
      const viewers = viewersByProtocol(g.subs);
      return {
        key: keyOfGroup(g),
        videoCodec: str(g.video_codec),
        audioCodec: str(g.audio_codec),
        width: num(g.video_width),
        height: num(g.video_height),
        bitrateKbps: source ? source.bitrateKbps : null,
        source: source ? { ...source, kind: pub ? 'publish' : 'pull' } : null,
        viewers,
        viewerTotal: viewers.reduce((n, [, c]) => n + c, 0),
        edges: [],
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Rows from the scheduler's /api/v1/streams (where it has no /api/stat/all_group). */
export function streamsFromScheduler(body) {
  const streams = body && Array.isArray(body.streams) ? body.streams : [];
  return streams.map((s) => {
    const media = (s && s.media) || {};
    const owner = (s && s.owner) || {};
    const edges = Array.isArray(s.edges) ? s.edges : [];
    const ownerViewers = num(owner.viewers) ?? 0;
    return {
      key: str(s.key),
      videoCodec: str(media.videoCodec),
      audioCodec: str(media.audioCodec),
      width: num(media.width),
      height: num(media.height),
      bitrateKbps: null,
      source: owner.nodeId
        ? {
            kind: 'owner',
            protocol: '',
            remote: str(owner.nodeId),
            since: isoOf(owner.since),
            bitrateKbps: null,
          }
        : null,
      viewers: [],
      viewerTotal: edges.reduce((n, e) => n + (num(e.viewers) ?? 0), 0),
      edges: edges.map((e) => ({ nodeId: str(e.nodeId), viewers: num(e.viewers) ?? 0 })),
      ownerViewers,
    };
  });
}

function isoOf(ms) {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : '';
}

/** Rows of the nodes table from the scheduler's /api/v1/nodes. */
export function nodesFromScheduler(body) {
  const nodes = body && Array.isArray(body.nodes) ? body.nodes : [];
  return nodes.map((n) => {
    const load = (n && n.load) || {};
    return {
      id: str(n.nodeId),
      role: str(n.role),
      state: n.draining ? 'draining' : n.healthy === false ? 'unhealthy' : 'ok',
      publishers: num(load.publishers),
      players: num(load.players),
      relays: num(load.relays),
      cpuPercent: num(load.cpuPercent),
      bytesInPerSec: num(load.bytesInPerSec),
      bytesOutPerSec: num(load.bytesOutPerSec),
      since: isoOf(n.startedAt),
    };
  });
}

/** The one row of a media node: lal_info (may be null) and /api/v1/stats (may be null). */
export function nodeFromStats(lalInfo, stats, env) {
  const info = (lalInfo && lalInfo.data) || {};
  const sessions = (stats && stats.sessions) || {};
  const status = stats ? str(stats.status) : '';
  return {
    id: str(info.server_id) || str(stats && stats.node) || str(env && env.nodeId),
    role: str(info.lal_version) ? `node (${info.lal_version})` : 'node',
    state: status === 'ready' || status === '' ? 'ok' : status,
    publishers: num(sessions.publisher),
    players: num(sessions.player),
    relays: num(sessions.relay),
    cpuPercent: null,
    bytesInPerSec: null,
    bytesOutPerSec: null,
    since: str(info.start_time),
  };
}

/** `/app/name` with every segment escaped, for a play URL path. */
export function keyPath(key) {
  return '/' + key.split('/').map(encodeURIComponent).join('/');
}

/**
 * The play URL of `key` in `format` (flv, m3u8): on a node its HTTP listener at the host the
 * page was loaded from; on the scheduler its /play redirect to an edge. null when the node has
 * no HTTP listener.
 */
export function playUrl(env, location, key, format) {
  if (env.kind === 'scheduler') return `/play${keyPath(key)}.${format}`;
  const media = env.media || {};
  const tls = location.protocol === 'https:' && media.httpsPort;
  const port = tls ? media.httpsPort : media.httpPort;
  if (!port) return null;
  return `${tls ? 'https' : 'http'}://${location.hostname}:${port}${keyPath(key)}.${format}`;
}

/** 1234 -> "1.2 Mbit/s" */
export function formatKbps(kbps) {
  if (kbps === null || kbps === undefined) return '';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

export function formatBytesPerSec(bps) {
  if (bps === null || bps === undefined) return '';
  return formatKbps((bps * 8) / 1000);
}
