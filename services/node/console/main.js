// @ts-nocheck -- browser code: the project's TypeScript setup has no DOM library.
// The console page: polls the API of the server it came from and renders streams and nodes.
import { AuthRequired, forgetToken, getJson, getOptional, storedToken, storeToken } from './api.js';
import {
  nodeFromStats,
  nodesFromScheduler,
  playUrl,
  streamsFromAllGroup,
  streamsFromScheduler,
} from './model.js';
import { el, renderNodes, renderStreams } from './render.js';
import { Previews } from './preview.js';

const POLL_MS = 2000;
/** Listings ask for one page this large (the scheduler's maximum). */
const PAGE_LIMIT = 1000;

const $ = (id) => document.getElementById(id);
const previews = new Previews($('previews'), el);
let env = null;
let timer = 0;

async function loadStreams() {
  if (env.kind === 'scheduler') {
    const lal = await getOptional('/api/stat/all_group');
    if (lal) return streamsFromAllGroup(lal);
    return streamsFromScheduler(await getJson(`/api/v1/streams?limit=${PAGE_LIMIT}`));
  }
  return streamsFromAllGroup(await getJson('/api/stat/all_group'));
}

async function loadNodes() {
  if (env.kind === 'scheduler') {
    const body = await getJson(`/api/v1/nodes?limit=${PAGE_LIMIT}`);
    return { rows: nodesFromScheduler(body), total: body.total };
  }
  const [info, stats] = await Promise.all([getOptional('/api/stat/lal_info'), getOptional('/api/v1/stats')]);
  return { rows: [nodeFromStats(info, stats, env)], total: 1 };
}

function startPreview(key, format) {
  previews.start(key, format, playUrl(env, location, key, format));
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [streams, nodes] = await Promise.all([loadStreams(), loadNodes()]);
    showContent();
    renderStreams($('streams').tBodies[0], streams, startPreview);
    $('no-streams').hidden = streams.length > 0;
    renderNodes($('nodes').tBodies[0], nodes.rows);
    if (env.kind === 'scheduler') {
      const more = nodes.total > nodes.rows.length ? ` (first ${nodes.rows.length} of ${nodes.total})` : '';
      $('nodes-title').textContent = `Nodes${more}`;
    }
    setStatus(`updated ${new Date().toLocaleTimeString()}`, false);
  } catch (e) {
    if (e instanceof AuthRequired) {
      showLogin(e.rejected ? 'The token was refused.' : '');
      return; // no polling until a token is entered
    }
    setStatus(String(e.message ?? e), true);
  }
  previews.tick();
  timer = setTimeout(refresh, POLL_MS);
}

function setStatus(text, bad) {
  $('status').textContent = text;
  $('status').className = bad ? 'error' : 'muted';
}

function showContent() {
  $('login').hidden = true;
  $('content').hidden = false;
  $('forget').hidden = storedToken() === '';
}

function showLogin(message) {
  $('content').hidden = true;
  $('login').hidden = false;
  $('forget').hidden = true;
  $('login-error').textContent = message;
  setStatus('', false);
  $('token').focus();
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  $('token').value = '';
  if (!token) return;
  storeToken(token);
  refresh();
});

$('forget').addEventListener('click', () => {
  forgetToken();
  refresh();
});

async function main() {
  env = await (await fetch('/console/env.json', { cache: 'no-store' })).json();
  $('server').textContent = `${env.kind === 'scheduler' ? 'scheduler' : 'node'} ${env.nodeId}`;
  if (env.kind === 'scheduler') $('nodes-title').textContent = 'Nodes';
  document.title = `Sluice console: ${env.nodeId}`;
  await refresh();
}

main().catch((e) => setStatus(`console failed to start: ${e.message ?? e}`, true));
