// One user (/admin/user?id=…): properties, disable/enable, emergency
// flag, their authentication methods (list, delete), issue a Temporary
// Access Pass (shown once), revoke their sessions, their groups.

import {el} from '../dom.js';
import {badge, fmtDate, methodName} from '../format.js';
import {authenticatorInfo, authenticatorIcon} from '../webauthn.js';
import {dl, table, form, action} from './form.js';

// tapForm issues a TAP for a user; userId() names them (an id or UPN).
// The pass is shown once with a copy button and never kept: it lives in
// one element, emptied when the page is left (pagehide also covers the
// back-forward cache, which would otherwise restore it).
export function tapForm(ctx, userId, extraFields) {
  const shown = el('div', {'data-tap': '', class: 'tap-once', hidden: true});
  const forget = () => { shown.textContent = ''; shown.hidden = true; };
  window.addEventListener('pagehide', forget);
  const f = form({name: 'issue-tap', title: 'Issue a Temporary Access Pass', action: 'issue', submit: 'Issue pass',
    check: ctx.canWrite('POST /users/{id}/authentication/temporaryAccessPassMethods'), what: 'issue Temporary Access Passes',
    fields: (extraFields || []).concat([
      {name: 'lifetimeInMinutes', label: 'Lifetime in minutes (empty: the policy default)', type: 'number', min: 10, max: 43200},
      {name: 'isUsableOnce', label: 'One-time use', type: 'checkbox', value: true},
    ]),
    send: async (v) => {
      forget();
      const uid = await userId(v);
      if (uid && uid.ok === false) return uid;
      const body = {isUsableOnce: v.isUsableOnce};
      if (v.lifetimeInMinutes) body.lifetimeInMinutes = v.lifetimeInMinutes;
      return ctx.graph('POST', '/users/' + encodeURIComponent(uid) + '/authentication/temporaryAccessPassMethods', body);
    },
    done: (r) => {
      const t = r.data;
      const pass = el('output', {class: 'tap-value', 'data-tap-value': ''}, t.temporaryAccessPass);
      const copy = el('button', {type: 'button', 'data-action': 'copy'}, 'Copy');
      const copied = el('span', {role: 'status'});
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(t.temporaryAccessPass);
          copied.textContent = ' Copied.';
        } catch (_) {
          // Clipboard refused (permissions): select it for Ctrl+C.
          const r = document.createRange();
          r.selectNodeContents(pass);
          getSelection().removeAllRanges();
          getSelection().addRange(r);
          copied.textContent = ' Selected: press Ctrl+C to copy.';
        }
      });
      shown.append(el('p', {}, el('strong', {}, 'Temporary Access Pass: '), pass, ' ', copy, copied),
        el('p', {class: 'small'}, 'Shown once: the server keeps only its hash. Valid from ' + fmtDate(t.startDateTime) + ' for ' +
          t.lifetimeInMinutes + ' minutes, ' + (t.isUsableOnce ? 'one sign-in' : 'reusable until it expires') +
          '. Give it to the user out of band; they sign in with it and register a passkey.'));
      shown.hidden = false;
      return 'Pass issued.';
    }});
  f.append(shown);
  return f;
}

function methodRow(ctx, uid, m, models, reload) {
  const type = (m['@odata.type'] || '').replace('#microsoft.graph.', '');
  let kind; let detail; let del;
  if (type === 'fido2AuthenticationMethod') {
    const info = models[String(m.aaGuid || '').toLowerCase()];
    kind = methodName('fido2');
    detail = el('span', {}, authenticatorIcon(info), ' ', m.displayName || '', m.model ? ' · ' + m.model : '',
      m.passkeyType ? ' · ' + (m.passkeyType === 'synced' ? 'synced' : 'device-bound') : '');
    del = ['DELETE /users/{id}/authentication/fido2Methods/{methodId}', '/fido2Methods/'];
  } else if (type === 'temporaryAccessPassAuthenticationMethod') {
    kind = 'Temporary Access Pass';
    detail = (m.isUsableOnce ? 'One-time' : 'Reusable') + ' · ' + m.lifetimeInMinutes + ' min from ' + fmtDate(m.startDateTime) +
      ' · ' + (m.isUsable ? 'usable' : 'not usable: ' + m.methodUsabilityReason);
    del = ['DELETE /users/{id}/authentication/temporaryAccessPassMethods/{methodId}', '/temporaryAccessPassMethods/'];
  } else {
    // Read-only kinds: the lab serves no delete for them.
    kind = {passwordAuthenticationMethod: 'Password', softwareOathAuthenticationMethod: methodName('softwareOath'),
      microsoftAuthenticatorAuthenticationMethod: 'Microsoft Authenticator (push)'}[type] || type || 'method';
    detail = [m.displayName, m.deviceTag].filter(Boolean).join(' · ') || '—';
  }
  return el('tr', {'data-method': type},
    el('th', {scope: 'row'}, kind), el('td', {}, detail), el('td', {}, fmtDate(m.createdDateTime)),
    el('td', {class: 'actions'}, del ? action({action: 'delete-method', label: 'Delete', danger: true, check: ctx.canWrite(del[0]),
      confirmText: 'Delete this ' + kind + '? The user can no longer sign in with it.',
      send: () => ctx.graph('DELETE', '/users/' + uid + '/authentication' + del[1] + encodeURIComponent(m.id)),
      after: reload(kind + ' deleted.')}) : '—'));
}

export default async function render(ctx) {
  const id = new URLSearchParams(location.search).get('id') || '';
  ctx.heading('User');
  if (!id) { ctx.fail('missingId', 'Open a user from the Users list.'); return; }
  const u = await ctx.graph('GET', '/users/' + encodeURIComponent(id));
  if (!u.ok) return ctx.failWith(u);
  const user = u.data;
  const uid = encodeURIComponent(user.id);
  ctx.heading('User: ' + user.userPrincipalName);
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };
  const patch = ctx.canWrite('PATCH /users/{id}');

  const [methods, groups] = await Promise.all([ctx.graph('GET', '/users/' + uid + '/authentication/methods'),
    ctx.graphAll('/users/' + uid + '/memberOf?$top=999')]);
  const list = methods.ok ? methods.data.value || [] : [];
  const models = {};
  await Promise.all(list.filter((m) => m.aaGuid).map(async (m) => {
    const info = await authenticatorInfo(m.aaGuid);
    if (info) models[String(m.aaGuid).toLowerCase()] = info;
  }));

  ctx.view.append(
    el('p', {}, el('a', {href: '/admin/users'}, '← All users')),
    dl([['Display name', user.displayName], ['Id', user.id], ['Account', badge(user.accountEnabled ? 'enabled' : 'disabled')],
      ['Emergency access', user.isEmergencyAccess ? 'Yes (break-glass)' : 'No'], ['Created', fmtDate(user.createdDateTime)]]),
    el('p', {class: 'actions'},
      action({action: user.accountEnabled ? 'disable' : 'enable', label: user.accountEnabled ? 'Disable account' : 'Enable account', check: patch,
        danger: user.accountEnabled, confirmText: user.accountEnabled ? 'They can no longer sign in.' : '',
        send: () => ctx.graph('PATCH', '/users/' + uid, {accountEnabled: !user.accountEnabled}),
        after: reload(user.accountEnabled ? 'Account disabled.' : 'Account enabled.')}), ' ',
      action({action: user.isEmergencyAccess ? 'unflag-emergency' : 'flag-emergency',
        label: user.isEmergencyAccess ? 'Unflag emergency access' : 'Flag emergency access', check: patch,
        send: () => ctx.graph('PATCH', '/users/' + uid, {isEmergencyAccess: !user.isEmergencyAccess}),
        after: reload(user.isEmergencyAccess ? 'No longer an emergency-access account.' : 'Flagged as an emergency-access account.')}), ' ',
      action({action: 'revoke-sessions', label: 'Revoke sessions', danger: true, check: ctx.canWrite('POST /users/{id}/revokeSignInSessions'),
        confirmText: 'Sign ' + user.userPrincipalName + ' out everywhere?',
        send: () => ctx.graph('POST', '/users/' + uid + '/revokeSignInSessions'),
        done: 'Sessions revoked: every session and refresh token issued before now is refused.'})),
    el('h2', {}, 'Authentication methods'),
    methods.ok ? table('Methods (' + list.length + ')', ['Method', 'Detail', 'Added', ''], list.map((m) => methodRow(ctx, uid, m, models, reload)), {'data-methods': ''})
      : el('p', {}, 'Methods: ', el('span', {class: 'error', 'data-code': methods.data && methods.data.error ? methods.data.error.code : ''},
        (methods.data && methods.data.error ? methods.data.error.code + ': ' + methods.data.error.message : 'not readable'))),
    tapForm(ctx, async () => user.id),
    el('h2', {}, 'Groups'),
    groups.ok ? table('Member of', ['Group'], (groups.data.value || []).map((g) => el('tr', {},
      el('th', {scope: 'row'}, el('a', {href: '/admin/group?id=' + encodeURIComponent(g.id)}, g.displayName || g.id)))))
      : el('p', {}, 'Groups: not readable'));
}
