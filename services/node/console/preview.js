// @ts-nocheck -- browser code: the project's TypeScript setup has no DOM library.
// Preview players: mpegts.js for HTTP-FLV, hls.js for HLS, loaded from this server on first use.

const LIBRARIES = { flv: 'vendor/mpegts.js', m3u8: 'vendor/hls.min.js' };
const loading = new Map();

function loadScript(src) {
  let p = loading.get(src);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => reject(new Error(`${src} did not load`));
      document.head.append(s);
    });
    loading.set(src, p);
  }
  return p;
}

/** The previews section: at most one player per stream and format. */
export class Previews {
  constructor(container, el) {
    this.container = container;
    this.el = el;
    this.open = new Map();
  }

  async start(key, format, url) {
    const id = `${format} ${key}`;
    if (this.open.has(id)) return;
    const video = this.el('video', null, { data: { key, format } });
    video.muted = true;
    video.autoplay = true;
    video.controls = true;
    video.playsInline = true;
    const status = this.el('span', 'loading…', { class: 'muted' });
    const close = this.el('button', 'Close', { type: 'button' });
    const title = this.el('strong', `${key} (${format === 'flv' ? 'HTTP-FLV' : 'HLS'})`);
    const bar = this.el('div', null, { class: 'bar' });
    bar.append(title, status, close);
    const box = this.el('div', null, { class: 'preview', data: { key, format } });
    box.append(bar, video);
    this.container.append(box);
    const entry = { box, video, status, player: null, error: '' };
    this.open.set(id, entry);
    close.addEventListener('click', () => this.stop(id));
    const fail = (message) => {
      entry.error = message;
      status.textContent = message;
      status.className = 'error';
    };
    if (!url) return fail('this node has no HTTP listener');
    try {
      await loadScript(LIBRARIES[format]);
      if (!this.open.has(id)) return;
      entry.player = format === 'flv' ? flvPlayer(video, url, fail) : hlsPlayer(video, url, fail);
    } catch (e) {
      fail(String(e.message ?? e));
    }
  }

  stop(id) {
    const e = this.open.get(id);
    if (!e) return;
    this.open.delete(id);
    try {
      e.player?.destroy();
    } catch {
      // already torn down
    }
    e.video.removeAttribute('src');
    e.box.remove();
  }

  /** Refreshes each player's line: size, position, decoded frames. */
  tick() {
    for (const e of this.open.values()) {
      if (e.error || !e.player) continue;
      const v = e.video;
      const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
      const size = v.videoWidth ? `${v.videoWidth}x${v.videoHeight}, ` : '';
      e.status.textContent = `${size}${v.currentTime.toFixed(1)} s${q ? `, ${q.totalVideoFrames} frames` : ''}`;
      e.status.className = 'muted';
    }
  }
}

function play(video, fail) {
  video.play().catch((e) => {
    // Autoplay of muted video is allowed; anything else is worth showing.
    if (e && e.name !== 'AbortError') fail(`play(): ${e.message ?? e}`);
  });
}

function flvPlayer(video, url, fail) {
  const mpegts = window.mpegts;
  if (!mpegts.getFeatureList().mseLivePlayback) throw new Error('this browser cannot play HTTP-FLV (no MSE)');
  const player = mpegts.createPlayer(
    { type: 'flv', isLive: true, url },
    { enableStashBuffer: false, liveBufferLatencyChasing: true },
  );
  player.on(mpegts.Events.ERROR, (type, detail) => fail(`mpegts.js: ${type} ${detail}`));
  player.attachMediaElement(video);
  player.load();
  play(video, fail);
  return player;
}

function hlsPlayer(video, url, fail) {
  const Hls = window.Hls;
  if (Hls.isSupported()) {
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_event, d) => {
      if (d.fatal) fail(`hls.js: ${d.type} ${d.details}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => play(video, fail));
    hls.loadSource(url);
    hls.attachMedia(video);
    return hls;
  }
  // Safari plays HLS itself.
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    play(video, fail);
    return { destroy: () => video.removeAttribute('src') };
  }
  throw new Error('this browser cannot play HLS (no MSE)');
}
