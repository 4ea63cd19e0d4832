/**
 * The demo's single page: sign in, see who you are and how, keep data in the session, list and
 * revoke sessions, sign out. Works in every AUTH_MODE: with a session cookie (session, hybrid),
 * and with bearer tokens (jwt, hybrid) that it keeps in page memory only, never in storage, and
 * refreshes shortly before they expire or when a request answers 401.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nestjs-session-auth demo</title>
<style>
  :root { --ink: #1d2330; --muted: #5f6b7a; --line: #e3e7ee; --accent: #3457d5; --bad: #b3261e; --good: #1e7b34; }
  * { box-sizing: border-box; }
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7fb; margin: 0; }
  header, main { max-width: 48rem; margin: 0 auto; padding: 0 1rem; }
  header { padding-top: 2rem; } h1 { font-size: 1.5rem; margin: 0; } header p { color: var(--muted); margin: .25rem 0 1.5rem; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
  h2 { font-size: 1rem; margin: 0 0 .75rem; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 0; }
  label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); gap: .2rem; }
  input { font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 6px; min-width: 10rem; }
  button { font: inherit; padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button.quiet { background: #fff; color: var(--accent); } button:disabled { opacity: .5; cursor: default; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } td, th { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; }
  code, pre { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; } pre { background: #f6f7fb; padding: .6rem; border-radius: 6px; margin: 0 0 .75rem; overflow-x: auto; }
  .muted { color: var(--muted); font-size: 13px; } .actions { display: flex; gap: .5rem; flex-wrap: wrap; }
  #status { min-height: 1.5em; margin: 0 0 1rem; } #status.bad { color: var(--bad); } #status.good { color: var(--good); }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>nestjs-session-auth</h1>
  <p>Sessions in Redis, passport-local login, optional JWTs: the demo app. Try <code>alice</code> / <code>alice-demo-password</code> or <code>admin</code> / <code>admin-demo-password</code>.</p>
</header>
<main>
  <p id="status" role="status" aria-live="polite"></p>

  <section id="signed-out">
    <h2>Sign in</h2>
    <form id="login-form">
      <label>Username <input id="username" name="username" autocomplete="username" required></label>
      <label>Password <input id="password" type="password" name="password" autocomplete="current-password" required></label>
      <button id="login-button" type="submit">Sign in</button>
    </form>
  </section>

  <section id="signed-in" hidden>
    <h2>You</h2>
    <pre id="me"></pre>
    <p class="muted" id="credential"></p>
    <div class="actions">
      <button id="logout" type="button">Sign out</button>
      <button id="logout-all" type="button" class="quiet">Sign out everywhere</button>
    </div>
  </section>

  <section id="data-section" hidden>
    <h2>Session data</h2>
    <pre id="data"></pre>
    <form id="data-form">
      <label>Key <input id="data-key" name="key" value="theme" required pattern="[!-~]{1,128}"></label>
      <label>Value <input id="data-value" name="value" value="dark"></label>
      <button type="submit">Save</button>
    </form>
  </section>

  <section id="sessions-section" hidden>
    <h2>Your sessions</h2>
    <p class="muted">Every device signed in as you. Revoking one signs it out on its next request.
      <button id="refresh-sessions" type="button" class="quiet">Refresh</button></p>
    <table>
      <thead><tr><th>session</th><th>signed in</th><th>last seen</th><th>device</th><th></th></tr></thead>
      <tbody id="sessions"></tbody>
    </table>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
// Bearer tokens live in this variable only: gone on reload, never in web storage.
const tokens = { access: null, refresh: null, expiresAt: 0, renewAt: 0, inUse: false };
// With CSRF_TOKEN=1 the server hands out a token bound to the session cookie; sent on every call.
let csrfToken = null;
let wasSignedIn = false;

function keepTokens(body) {
  if (!body || !body.accessToken) return;
  tokens.inUse = true;
  tokens.access = body.accessToken;
  tokens.refresh = body.refreshToken || null; // absent when the refresh token travels in a cookie
  tokens.expiresAt = Date.now() + body.expiresIn * 1000;
  tokens.renewAt = Date.now() + body.expiresIn * 800; // at four fifths of its lifetime
}

function dropTokens() {
  tokens.access = null; tokens.refresh = null; tokens.expiresAt = 0; tokens.renewAt = 0; tokens.inUse = false;
}

async function refreshTokens() {
  const response = await fetch('/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(tokens.refresh ? { refreshToken: tokens.refresh } : {}),
  });
  if (response.status !== 200) { dropTokens(); return false; }
  keepTokens(await response.json());
  return true;
}

async function call(method, path, body, retried) {
  if (tokens.inUse && Date.now() > tokens.renewAt) await refreshTokens();
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (tokens.access) headers.Authorization = 'Bearer ' + tokens.access;
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && tokens.inUse && !retried && (await refreshTokens())) return call(method, path, body, true);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: response.status, body: data };
}

function say(message, kind) {
  $('status').textContent = message;
  $('status').className = kind || '';
}

function problem(result, what) {
  const reason = result.body && result.body.message ? ': ' + result.body.message : '';
  const retry = result.status === 429 ? ' Too many attempts, try again later.' : '';
  say(what + ' failed (' + result.status + ')' + reason + '.' + retry, 'bad');
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function time(value) {
  return new Date(value).toLocaleString();
}

async function render() {
  const me = await call('GET', '/auth/me');
  const signedIn = me.status === 200;
  $('signed-out').hidden = signedIn;
  for (const id of ['signed-in', 'data-section', 'sessions-section']) $(id).hidden = !signedIn;
  // Signed in a moment ago and not by our own sign-out: the session was revoked elsewhere or expired.
  if (!signedIn && wasSignedIn) say('Signed out: this session was ended on another device, or it expired.', 'bad');
  wasSignedIn = signedIn;
  if (!signedIn) { dropTokens(); csrfToken = null; return; }
  // After a reload or a rotation the page asks for the current session's token (404 when off).
  if (!csrfToken) {
    const csrf = await call('GET', '/auth/csrf');
    csrfToken = csrf.status === 200 ? csrf.body.token : null;
  }
  $('me').textContent = JSON.stringify(me.body.user, null, 2);
  $('credential').textContent = tokens.inUse
    ? 'Signed in with a bearer access token held by this page only: it expires at ' + new Date(tokens.expiresAt).toLocaleTimeString() +
      ' and is renewed with the refresh token before then. A reload forgets it.'
    : 'Signed in with an HttpOnly session cookie.';
  const data = await call('GET', '/demo/session');
  $('data').textContent = data.status === 200 ? JSON.stringify(data.body, null, 2) : '(unavailable: ' + data.status + ')';
  const list = await call('GET', '/auth/sessions');
  const rows = $('sessions');
  rows.replaceChildren();
  for (const session of list.status === 200 ? list.body : []) {
    const row = document.createElement('tr');
    row.dataset.sessionId = session.id;
    if (session.current) row.dataset.current = 'true';
    cell(row, session.id.slice(0, 8) + (session.current ? ' (this one)' : ''));
    cell(row, time(session.createdAt));
    cell(row, time(session.lastSeenAt));
    cell(row, session.userAgent || 'unknown');
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'quiet';
    revoke.textContent = session.current ? 'Sign out' : 'Revoke';
    revoke.onclick = async () => {
      const result = await call('DELETE', '/auth/sessions/' + encodeURIComponent(session.id));
      if (result.status !== 204) problem(result, 'Revoking');
      else if (!session.current) say('Session revoked.', 'good');
      else { say('Signed out.', 'good'); dropTokens(); wasSignedIn = false; }
      await render();
    };
    cell(row, '').appendChild(revoke);
    rows.appendChild(row);
  }
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-button').disabled = true;
  try {
    const result = await call('POST', '/auth/login', { username: $('username').value, password: $('password').value });
    if (result.status === 200) {
      keepTokens(result.body);
      csrfToken = result.body.csrfToken || null;
      $('password').value = '';
      say('Signed in as ' + $('username').value + '.', 'good');
    } else {
      problem(result, 'Sign-in');
    }
    await render();
  } finally {
    $('login-button').disabled = false;
  }
});

$('data-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await call('PUT', '/demo/session/' + encodeURIComponent($('data-key').value), { value: $('data-value').value });
  if (result.status === 200) say('Saved in the session.', 'good');
  else problem(result, 'Saving');
  await render();
});

$('refresh-sessions').onclick = async () => {
  say('');
  await render();
};

$('logout').onclick = async () => {
  const result = await call('POST', '/auth/logout');
  dropTokens();
  wasSignedIn = false;
  say(result.status === 204 ? 'Signed out.' : 'Sign-out answered ' + result.status + '.', result.status === 204 ? 'good' : 'bad');
  await render();
};

$('logout-all').onclick = async () => {
  const result = await call('POST', '/auth/logout-all');
  dropTokens();
  wasSignedIn = false;
  say(result.status === 204 ? 'Signed out on every device.' : 'Sign-out answered ' + result.status + '.', result.status === 204 ? 'good' : 'bad');
  await render();
};

render();
</script>
</body>
</html>
`;
