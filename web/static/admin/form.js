// Shared helpers of the admin views: property lists and tables, directory
// names for ids, and forms that write through the Graph API and show the
// server's stable error code and message. Test selectors (see
// docs/web.md): forms carry data-form="<name>", inputs the Graph property
// name as name=, buttons data-action="<verb>", and each form or action
// its result region data-result; an error reads
// <p class="error" data-code="<code>">code: message</p>.

import {el} from '../dom.js';

export function dl(pairs) {
  const d = el('dl', {class: 'props'});
  for (const [k, v] of pairs) d.append(el('dt', {}, k), el('dd', {}, v));
  return d;
}

export function table(caption, headers, rows, attrs) {
  if (!rows.length) return el('p', attrs || {}, el('strong', {}, caption + ': '), 'none');
  return el('table', attrs || {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {scope: 'col'}, h || el('span', {class: 'sr-only'}, 'Actions'))))),
    el('tbody', {}, rows));
}

// directoryNames maps group and user ids to names, for ids in policies
// (best effort: a role that may not list users still sees the ids).
export async function directoryNames(ctx) {
  const names = {All: 'All users', None: 'Nobody', all_users: 'All users', GuestsOrExternalUsers: 'Guests or external users'};
  for (const [p, label] of [['/groups?$top=999', 'displayName'], ['/users?$top=999', 'userPrincipalName']]) {
    const res = await ctx.graphAll(p);
    if (res.ok) for (const o of res.data.value || []) names[o.id] = o[label];
  }
  const nameOf = (id) => names[id] || id;
  return {names, nameOf, list: (ids) => (ids && ids.length ? ids.map(nameOf).join(', ') : '—')};
}

// errorOf is the Graph error envelope's code and message (or the status).
export function errorOf(res) {
  const e = (res.data && res.data.error) || {};
  return {code: e.code || (res.status ? 'http_' + res.status : 'networkError'), message: e.message || 'The server answered ' + res.status + '.'};
}

export function errorLine(res) {
  const {code, message} = errorOf(res);
  return el('p', {class: 'error', 'data-code': code}, el('strong', {class: 'code'}, code), ': ' + message);
}

// show puts a result into a data-result region: the error line for a
// refusal, else the success text (or element).
export function show(region, res, ok) {
  region.textContent = '';
  if (!res.ok) region.append(errorLine(res));
  else if (ok) region.append(ok instanceof Node ? ok : el('p', {class: 'ok'}, ok));
  return res.ok;
}

// readOnly says why a view or form cannot change anything: the token's
// roles and the roles the route needs. check is ctx.canWrite's answer.
export function readOnly(check, what) {
  const mine = check.mine && check.mine.length ? check.mine.join(', ') : 'none';
  const need = check.need && check.need.length ? check.need.join(', ') : 'a role this server does not list';
  return el('p', {class: 'readonly', 'data-readonly': ''}, 'Read-only: your roles (' + mine + ') cannot ' + what +
    '; it needs one of ' + need + '.');
}

// field builds one labelled input. f: {name, label, type ('text',
// 'number', 'checkbox', 'select', 'textarea', 'hidden'), value, options
// [[value, label]], required, help, multiple}.
let seq = 0;
export function field(f) {
  const id = 'f' + (++seq) + '-' + f.name.replace(/[^a-zA-Z0-9]/g, '');
  const attrs = {id, name: f.name, required: f.required, 'aria-describedby': f.help ? id + '-help' : undefined};
  let input;
  if (f.type === 'select') {
    input = el('select', Object.assign(attrs, {multiple: f.multiple}), (f.options || []).map(([v, l]) =>
      el('option', {value: v, selected: f.multiple ? (f.value || []).includes(v) : String(f.value) === String(v)}, l)));
  } else if (f.type === 'textarea') {
    input = el('textarea', Object.assign(attrs, {rows: f.rows || 3, spellcheck: 'false'}));
    input.value = f.value === undefined ? '' : String(f.value);
  } else if (f.type === 'checkbox') {
    input = el('input', Object.assign(attrs, {type: 'checkbox', checked: !!f.value}));
  } else {
    input = el('input', Object.assign(attrs, {type: f.type || 'text', autocomplete: 'off', min: f.min, max: f.max,
      value: f.value === undefined ? undefined : String(f.value)}));
  }
  if (f.type === 'hidden') return input;
  const help = f.help ? el('span', {class: 'help', id: id + '-help'}, f.help) : null;
  if (f.type === 'checkbox') return el('div', {class: 'check'}, input, el('label', {for: id}, f.label), help);
  return el('div', {class: 'field'}, el('label', {for: id}, f.label), input, help);
}

// values reads a form's named inputs: checkboxes as booleans, numbers as
// numbers, multiple selects as arrays, text trimmed.
export function values(form) {
  const out = {};
  for (const i of form.querySelectorAll('[name]')) {
    if (i.type === 'checkbox') out[i.name] = i.checked;
    else if (i.type === 'number') out[i.name] = i.value === '' ? null : Number(i.value);
    else if (i.multiple) out[i.name] = [...i.selectedOptions].map((o) => o.value);
    else out[i.name] = i.value.trim();
  }
  return out;
}

// form builds a form that writes through the API. spec: {name (data-form),
// title, fields (see field; or elements), submit (label), action (the
// button's data-action), check (ctx.canWrite's answer: without ok the form
// is disabled and says why), what (for that sentence), send (async
// (values, form) => res from ctx.graph), done (text or (res) => text or
// element after success), after (async (res) => … e.g. reload the view)}.
export function form(spec) {
  const result = el('div', {'data-result': '', role: 'status', 'aria-live': 'polite'});
  const button = el('button', {type: 'submit', class: 'primary', 'data-action': spec.action || 'save'}, spec.submit || 'Save');
  const f = el('form', {'data-form': spec.name, class: spec.class || 'admin-form', novalidate: true},
    spec.title ? el('h3', {}, spec.title) : null,
    (spec.fields || []).map((x) => (x instanceof Node ? x : field(x))),
    button, result);
  if (spec.check && !spec.check.ok) {
    for (const i of f.querySelectorAll('input, select, textarea, button')) i.disabled = true;
    f.insertBefore(readOnly(spec.check, spec.what || 'change this'), f.firstChild && f.firstChild.nextSibling);
    return f;
  }
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    result.textContent = '';
    try {
      const res = await spec.send(values(f), f);
      if (!res) return; // the sender refused locally and said why
      const done = typeof spec.done === 'function' ? (res.ok ? spec.done(res) : null) : spec.done || 'Saved.';
      if (show(result, res, done) && spec.after) await spec.after(res);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

// action is a button that writes (delete, disable, dismiss …) with its
// own result region. confirmText asks first, in the page (a second button,
// data-action="confirm", rather than window.confirm, which a headless
// browser cannot answer). Without check.ok it is disabled and titled with
// the reason.
export function action(spec) {
  const result = el('span', {'data-result': '', role: 'status', 'aria-live': 'polite'});
  const b = el('button', {type: 'button', class: spec.danger ? 'danger' : '', 'data-action': spec.action}, spec.label);
  const wrap = el('span', {class: 'action'}, b, result);
  if (spec.check && !spec.check.ok) {
    b.disabled = true;
    b.title = readOnly(spec.check, spec.what || spec.label.toLowerCase()).textContent;
    return wrap;
  }
  async function run() {
    b.disabled = true;
    result.textContent = '';
    try {
      const res = await spec.send();
      if (show(result, res, spec.done) && spec.after) await spec.after(res);
    } finally {
      b.disabled = false;
    }
  }
  b.addEventListener('click', () => {
    if (!spec.confirmText) { run(); return; }
    result.textContent = '';
    const yes = el('button', {type: 'button', class: 'danger', 'data-action': 'confirm'}, 'Yes, ' + spec.label.toLowerCase());
    const no = el('button', {type: 'button', 'data-action': 'cancel'}, 'Cancel');
    yes.addEventListener('click', () => run());
    no.addEventListener('click', () => { result.textContent = ''; });
    result.append(el('span', {class: 'confirm'}, spec.confirmText + ' ', yes, ' ', no));
  });
  return wrap;
}
