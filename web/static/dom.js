// DOM helpers shared by every page: building elements (textContent only,
// never innerHTML, so server text cannot become markup) and the status and
// alert regions (aria-live in every page).

export const $ = (id) => document.getElementById(id);

// el builds an element: el('td', {class: 'x'}, 'text', child, ...).
export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

// ---- status and errors (aria-live regions in every page) ----

// ready shows the page's controls (hidden by app.css until the module
// has attached its handlers).
export function ready() {
  document.body.dataset.ready = '';
}

export function say(msg) {
  const s = $('status');
  if (s) s.textContent = msg || '';
}

export function clearAlert() {
  const a = $('alert');
  if (a) { a.hidden = true; a.textContent = ''; }
}

// fail shows a refusal with its stable code, so a tester can match it
// against the README (e.g. syncedPasskeyNotAllowed, aaguidNotAllowed).
export function fail(code, message) {
  const a = $('alert');
  say('');
  a.textContent = '';
  a.append(el('strong', {class: 'code'}, code || 'error'), ' ', el('span', {}, message || ''));
  a.hidden = false;
}

export function failWith(res) {
  const e = (res.data && res.data.error) || {};
  fail(e.code || 'http_' + res.status, e.message || 'The server answered ' + res.status + '.');
}
