// The hub's API v1 as the dashboard uses it (docs/hub.md, docs/dashboard.md).
//
// The session cookie is HttpOnly: this code never sees it, the browser sends
// it. Writes carry the session's CSRF token in X-CSRF-Token. The dashboard
// never names an AS in a request: an operator's findings are what the hub
// gives it by default, so it cannot even ask for another operator's data.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrf = sessionStorage.getItem('kz_csrf');

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) {
    // Signed out (expired, or the hub restarted): back to the sign-in page.
    location.assign('/');
    throw new ApiError(401, 'signed out');
  }
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || r.statusText);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);

// Who is signed in: {role, name, asns, tlp}.
export async function session() {
  const s = await get('/api/v1/session');
  if (s.csrf) {
    csrf = s.csrf;
    sessionStorage.setItem('kz_csrf', csrf);
  }
  return s;
}

export async function signOut() {
  await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' });
  sessionStorage.removeItem('kz_csrf');
  location.assign('/');
}

// Findings of one kind, newest first, up to maxPages pages of 1000.
export async function findings(kind, maxPages = 5) {
  const out = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const q = new URLSearchParams({ kind, limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const r = await get('/api/v1/findings?' + q);
    out.push(...r.findings);
    cursor = r.next_cursor;
    if (!cursor) return { list: out, complete: true };
  }
  return { list: out, complete: false };
}

export const summary = () => get('/api/v1/summary');

export function statsPorts(from, to, bin) {
  const q = new URLSearchParams({ from, to, bin });
  return get('/api/v1/stats/ports?' + q);
}

export function feedback(findingId, value) {
  return post('/api/v1/findings/' + encodeURIComponent(findingId) + '/feedback', {
    feedback: value,
  });
}
