/** The demo's single page: log in, see who you are, list and revoke sessions, log out. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nestjs-session-auth demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  fieldset { margin-bottom: 1rem; } table { border-collapse: collapse; width: 100%; }
  td, th { border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; font-size: 13px; }
  code { background: #f4f4f4; padding: 0 .25rem; } .error { color: #b00; }
</style>
</head>
<body>
<h1>nestjs-session-auth demo</h1>
<p>Demo users: <code>alice</code> / <code>alice-demo-password</code> and <code>admin</code> / <code>admin-demo-password</code>.</p>
<fieldset id="login"><legend>Log in</legend>
  <input id="username" placeholder="username" autocomplete="username">
  <input id="password" type="password" placeholder="password" autocomplete="current-password">
  <button id="login-button">Log in</button>
</fieldset>
<fieldset><legend>You</legend><pre id="me">…</pre>
  <button id="logout">Log out</button> <button id="logout-all">Log out everywhere</button>
</fieldset>
<fieldset><legend>Your sessions</legend><table><thead><tr><th>id</th><th>created</th><th>last seen</th><th>user agent</th><th></th></tr></thead><tbody id="sessions"></tbody></table></fieldset>
<p id="status" class="error"></p>
<script>
const $ = (id) => document.getElementById(id);
async function call(method, path, body) {
  const response = await fetch(path, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
function cell(row, text) { const td = document.createElement('td'); td.textContent = text; row.appendChild(td); }
async function refresh() {
  const me = await call('GET', '/auth/me');
  $('me').textContent = me.status === 200 ? JSON.stringify(me.body.user, null, 2) : 'not logged in';
  const list = await call('GET', '/auth/sessions');
  const rows = $('sessions'); rows.replaceChildren();
  for (const s of list.status === 200 ? list.body : []) {
    const row = document.createElement('tr');
    cell(row, s.id.slice(0, 8) + (s.current ? ' (this one)' : ''));
    cell(row, new Date(s.createdAt).toLocaleTimeString()); cell(row, new Date(s.lastSeenAt).toLocaleTimeString()); cell(row, s.userAgent || '');
    const button = document.createElement('button'); button.textContent = 'Revoke';
    button.onclick = async () => { await call('DELETE', '/auth/sessions/' + encodeURIComponent(s.id)); refresh(); };
    const td = document.createElement('td'); td.appendChild(button); row.appendChild(td); rows.appendChild(row);
  }
}
$('login-button').onclick = async () => {
  const result = await call('POST', '/auth/login', { username: $('username').value, password: $('password').value });
  $('status').textContent = result.status === 200 ? '' : 'Login failed (' + result.status + ')';
  refresh();
};
$('logout').onclick = async () => { await call('POST', '/auth/logout'); refresh(); };
$('logout-all').onclick = async () => { await call('POST', '/auth/logout-all'); refresh(); };
refresh();
</script>
</body>
</html>
`;
