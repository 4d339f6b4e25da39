// @ts-nocheck -- browser code: the project's TypeScript setup has no DOM library.
// Tables built from DOM nodes and text only: stream names and addresses are client input, so
// nothing the API returns ever goes through innerHTML.
import { formatBytesPerSec, formatKbps } from './model.js';

/** `<tag>` with text content and attributes (data-* via `data`). */
export function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === 'data') Object.assign(e.dataset, v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  return e;
}

function cell(col, text, cls) {
  return el('td', text, { data: { col }, ...(cls ? { class: cls } : {}) });
}

/** "13:04:05 (2h 3m)" from a lal start_time ("2020-10-11 19:17:41.586", local) or an ISO time. */
export function since(text, now = Date.now()) {
  if (!text) return '';
  const t = Date.parse(text.includes('T') ? text : text.replace(' ', 'T'));
  if (!Number.isFinite(t)) return text;
  const s = Math.max(0, Math.round((now - t) / 1000));
  const age =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${new Date(t).toLocaleTimeString()} (${age})`;
}

function videoText(r) {
  if (!r.videoCodec) return '';
  return r.width && r.height ? `${r.videoCodec} ${r.width}x${r.height}` : r.videoCodec;
}

function sourceText(s) {
  if (!s) return '';
  if (s.kind === 'owner') return `origin ${s.remote}${s.since ? `, since ${since(s.since)}` : ''}`;
  const what = s.kind === 'pull' ? `pull ${s.protocol}` : s.protocol;
  return [what, s.remote, s.since ? `since ${since(s.since)}` : ''].filter(Boolean).join(', ');
}

function viewersText(r) {
  if (r.edges.length > 0) {
    return `${r.viewerTotal} on edges: ${r.edges.map((e) => `${e.nodeId} ${e.viewers}`).join(', ')}`;
  }
  if (r.viewerTotal === 0) return '0';
  return `${r.viewerTotal}: ${r.viewers.map(([p, n]) => `${p} ${n}`).join(', ')}`;
}

/** Replaces the rows of the streams table; `onPreview(key, format)` runs on a preview button. */
export function renderStreams(tbody, rows, onPreview) {
  tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = el('tr', null, { data: { key: r.key } });
      const buttons = cell('preview');
      for (const [format, label] of [
        ['flv', 'FLV'],
        ['m3u8', 'HLS'],
      ]) {
        const b = el('button', label, {
          type: 'button',
          data: { format },
          title: `Play ${r.key} over ${label}`,
        });
        b.addEventListener('click', () => onPreview(r.key, format));
        buttons.append(b);
      }
      tr.append(
        cell('key', r.key),
        cell('video', videoText(r)),
        cell('audio', r.audioCodec),
        cell('bitrate', formatKbps(r.bitrateKbps), 'num'),
        cell('publisher', sourceText(r.source)),
        cell('viewers', viewersText(r)),
        buttons,
      );
      return tr;
    }),
  );
}

export function renderNodes(tbody, rows) {
  const n = (v) => (v === null || v === undefined ? '' : String(v));
  tbody.replaceChildren(...rows.map((r) => rowOf(r, n)));
}

function rowOf(r, n) {
  const tr = el('tr', null, { data: { node: r.id } });
  tr.append(
    cell('node', r.id),
    cell('role', r.role),
    cell('state', r.state, r.state === 'ok' ? '' : 'bad'),
    cell('publishers', n(r.publishers), 'num'),
    cell('players', n(r.players), 'num'),
    cell('relays', n(r.relays), 'num'),
    cell('cpu', r.cpuPercent === null ? '' : `${Math.round(r.cpuPercent)} %`, 'num'),
    cell('in', formatBytesPerSec(r.bytesInPerSec), 'num'),
    cell('out', formatBytesPerSec(r.bytesOutPerSec), 'num'),
    cell('since', since(r.since)),
  );
  return tr;
}
