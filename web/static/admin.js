// The admin shell: the admin token (from the session or pasted) and a
// router that loads the view's module, web/static/admin/<view>.js, for
// /admin/<view>. A view exports `default async function render(ctx)`;
// ctx carries the element to fill, the Graph helper with the token, the
// token's roles and what they may change (see admin/form.js).

import {$, el, say, clearAlert, fail, failWith} from './dom.js';
import {call, codeOf, adminTokenKey} from './api.js';
import {b64uToBuf} from './webauthn.js';

function tokenClaims(tok) {
  try {
    return JSON.parse(new TextDecoder().decode(b64uToBuf(tok.split('.')[1])));
  } catch (_) { return null; }
}

// viewName is the view of /admin/<view> ('' for the overview); anything
// but a plain name is no view (the server only serves known ones).
function viewName() {
  const m = location.pathname.replace(/\/+$/, '').match(/^\/admin\/([a-z0-9-]+)$/);
  return m ? m[1] : '';
}

export default async function adminPage() {
  const view = $('view');
  const path = location.pathname.replace(/\/+$/, '') || '/admin';
  for (const a of document.querySelectorAll('nav.side a')) {
    // A user's or group's page sits under its list.
    if (a.getAttribute('href') === path || a.getAttribute('href') === path + 's') a.setAttribute('aria-current', 'page');
  }
  let token = sessionStorage.getItem(adminTokenKey) || '';
  let claims = null;
  let permissions = null; // the server's route table for this token: GET /admin/permissions

  function forget(reason) {
    token = '';
    claims = null;
    permissions = null;
    sessionStorage.removeItem(adminTokenKey);
    $('forget-token').hidden = true;
    $('who').hidden = true;
    view.textContent = '';
    $('auth').hidden = false;
    if (reason) fail(reason.code, reason.message); else say('Admin token forgotten.');
  }

  // graph calls the Graph-shaped API (/v1.0) with the admin token and
  // answers {ok, status, body} (body also as data, as api.js names it).
  // A 401 means the token is gone: the page asks for a new one.
  async function graph(method, p, body) {
    if (p === undefined) { p = method; method = 'GET'; }
    const res = await call(method, '/v1.0' + p, body, token);
    res.body = res.data;
    if (res.status === 401) forget({code: codeOf(res) || 'InvalidAuthenticationToken', message: 'The admin token is no longer valid; get a new one.'});
    return res;
  }

  // graphAll reads a list whole, following @odata.nextLink (absolute, as
  // Graph's is) up to max items: {ok, status, data: {value}, truncated}.
  // A page that fails answers that page's response.
  async function graphAll(p, max = 20000) {
    let res = await graph('GET', p);
    if (!res.ok) return res;
    const value = [...(res.data.value || [])];
    let next = res.data['@odata.nextLink'];
    while (next && value.length < max) {
      const u = new URL(next, location.href);
      if (u.origin !== location.origin || !u.pathname.startsWith('/v1.0/')) break;
      res = await graph('GET', u.pathname.slice('/v1.0'.length) + u.search);
      if (!res.ok) return res;
      value.push(...(res.data.value || []));
      next = res.data['@odata.nextLink'];
    }
    return {ok: true, status: res.status, data: {value: value.slice(0, max)}, truncated: Boolean(next) || value.length > max};
  }

  const roles = () => (claims && claims.roles) || [];

  // canWrite answers whether the token's roles include one of a role
  // list (Global Administrator may do everything, as the server's allow
  // does), or, given 'METHOD /path' as routes.go spells it (e.g.
  // 'PATCH /users/{id}'), whether the server's route table lets these
  // roles call it. It answers {ok, need} so a view can say why not.
  function canWrite(what) {
    const mine = roles();
    if (Array.isArray(what)) {
      const need = what;
      return {ok: mine.includes('Global Administrator') || need.some((r) => mine.includes(r)), need, mine};
    }
    const [method, p] = String(what).split(' ');
    const route = permissions && permissions.find((r) => r.method === method && r.path === p);
    if (!route) return {ok: false, need: [], mine, unknown: true};
    return {ok: route.allowed, need: route.roles, mine};
  }

  async function useToken(tok) {
    const c = tokenClaims(tok);
    if (!c || c.aud !== 'rpserver-admin' && !(Array.isArray(c.aud) && c.aud.includes('rpserver-admin'))) {
      fail('invalidAdminToken', 'That is not an rpserver admin token (audience rpserver-admin).');
      return;
    }
    if (c.exp && c.exp * 1000 < Date.now()) { fail('adminTokenExpired', 'That token has expired.'); return; }
    token = tok;
    claims = c;
    sessionStorage.setItem(adminTokenKey, tok);
    $('auth').hidden = true;
    $('forget-token').hidden = false;
    $('who').textContent = (c.upn || c.sub || 'admin') + ' · ' + (c.roles || []).join(', ') +
      (c.exp ? ' · token valid until ' + new Date(c.exp * 1000).toLocaleTimeString() : '');
    $('who').hidden = false;
    clearAlert();
    await render();
  }

  $('get-token').addEventListener('click', async () => {
    clearAlert();
    say('Exchanging your session for an admin token…');
    const res = await call('POST', '/admin/token', {});
    if (!res.ok) { failWith(res); return; }
    if (res.data.status !== 'completed') {
      // The exchange is a sign-in to the admin API (Microsoft Graph):
      // Conditional Access may want more than this session proved.
      say((res.data.message || 'Conditional Access requires more for the admin API') +
        '. Sign in again with a method that satisfies it, then get the token again.');
      return;
    }
    say('');
    await useToken(res.data.access_token);
  });
  $('paste-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = $('pasted').value.trim().replace(/^Bearer\s+/i, '');
    $('pasted').value = '';
    await useToken(t);
  });
  $('forget-token').addEventListener('click', () => forget());

  function heading(title) {
    $('heading').textContent = title;
    document.title = title + ' · rpserver lab';
  }

  // The overview: a tile per view, from the side nav's links (each view's
  // line in admin.html carries its description in data-about).
  function overview() {
    heading('Admin');
    view.append(el('ul', {class: 'tiles'},
      [...document.querySelectorAll('nav.side a')].map((a) => el('li', {},
        el('a', {href: a.getAttribute('href')}, a.textContent), el('span', {}, a.dataset.about || '')))));
  }

  async function render() {
    view.textContent = '';
    clearAlert();
    say('Loading…');
    if (!permissions) {
      const res = await call('GET', '/admin/permissions', undefined, token);
      permissions = res.ok ? res.data.value || [] : [];
    }
    const name = viewName();
    if (!name) { overview(); say(''); return; }
    let mod;
    try {
      mod = await import('./admin/' + name + '.js');
    } catch (err) {
      fail('viewNotFound', 'No admin view ' + name + ': ' + String(err && err.message || err));
      return;
    }
    const ctx = {view, graph, graphAll, roles: roles(), canWrite, say, fail, failWith, heading, rerender: render, token: () => token};
    await mod.default(ctx);
    if (token && $('status').textContent === 'Loading…') say('');
  }

  if (token) await useToken(token);
  else $('auth').hidden = false;
}
