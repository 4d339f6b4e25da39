// @ts-nocheck -- browser code: the project's TypeScript setup has no DOM library.
// The console's API calls: same origin, the token (if any) as a Bearer header, never in a URL.

const TOKEN_KEY = 'sluice.console.token';

/** The API answered 401/403: the page asks for a token. */
export class AuthRequired extends Error {
  constructor(rejected) {
    super(rejected ? 'the token was refused' : 'a token is needed');
    this.rejected = rejected;
  }
}

export class ApiError extends Error {
  constructor(path, status, message) {
    super(`${path}: ${message || `HTTP ${status}`}`);
    this.status = status;
  }
}

/** Kept for this tab only (sessionStorage): closing it forgets the token. */
export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** GET `path` (absolute, this origin) as JSON; lal-style bodies with error_code != 0 are errors. */
export async function getJson(path) {
  const headers = { Accept: 'application/json' };
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, { headers, cache: 'no-store', credentials: 'omit', redirect: 'error' });
  if (r.status === 401 || r.status === 403) throw new AuthRequired(token !== '');
  if (!r.ok) throw new ApiError(path, r.status, await errorText(r));
  const body = await r.json();
  if (body && typeof body.error_code === 'number' && body.error_code !== 0) {
    throw new ApiError(path, r.status, `error_code ${body.error_code}: ${body.desp ?? ''}`);
  }
  return body;
}

/** GET `path`, or null when this server does not have it (404). */
export async function getOptional(path) {
  try {
    return await getJson(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

async function errorText(r) {
  try {
    const j = await r.json();
    const e = j && j.error;
    return typeof e === 'string' ? e : e && typeof e.message === 'string' ? e.message : '';
  } catch {
    return '';
  }
}
