// Security info: the signed-in user's passkeys (list, rename, delete,
// register) and their other methods.

import {$, el, say, clearAlert, fail, failWith} from './dom.js';
import {call, adminTokenKey} from './api.js';
import {creationFromJSON, toJSON, browserFailure, webauthnAvailable, signalAccepted,
  authenticatorInfo, authenticatorIcon} from './webauthn.js';
import {fmtDate, methodName} from './format.js';

export default async function securityInfoPage() {
  let me = null;

  $('signout').addEventListener('click', async () => {
    await call('POST', '/signout');
    sessionStorage.removeItem(adminTokenKey);
    location.assign('/signin');
  });

  const meRes = await call('GET', '/me');
  if (!meRes.ok) {
    $('signout').hidden = true;
    $('signed-out').hidden = false;
    if (meRes.status !== 401) failWith(meRes);
    return;
  }
  me = meRes.data;
  const amr = me.authenticationMethodsUsed || [];
  $('who').textContent = (me.displayName ? me.displayName + ' · ' : '') + me.userPrincipalName +
    (amr.length ? ' — signed in with ' + amr.map(methodName).join(' + ') : '');
  $('content').hidden = false;
  // Sent here by the registration campaign's interrupt (signin.js).
  const params = new URLSearchParams(location.search);
  if (params.get('setup') === 'microsoftAuthenticator') {
    $('campaign-upn').textContent = me.userPrincipalName;
    $('campaign-note').hidden = false;
    // An OpenID Connect sign-in interrupted by the campaign goes on to its
    // application from here once the user has done what was asked.
    const authRequest = params.get('authRequest');
    if (authRequest) {
      $('campaign-continue').href = '/oauth2/login/complete?authRequest=' + encodeURIComponent(authRequest);
      $('campaign-continue').hidden = false;
    }
  }

  async function load(announce) {
    const res = await call('GET', '/me/authentication/fido2Methods');
    if (!res.ok) { failWith(res); return; }
    const list = (res.data && res.data.value) || [];
    const body = $('passkeys-body');
    body.textContent = '';
    for (const m of list) body.append(row(m));
    $('passkeys').hidden = list.length === 0;
    $('empty').hidden = list.length !== 0;
    // After a TAP (or any weak) sign-in with nothing strong registered,
    // registering a passkey is the point of being here.
    $('nudge').hidden = !(list.length === 0 && !amr.includes('fido2'));
    if (announce) say(announce);
  }

  // model is the authenticator's name and icon from the catalog (the
  // operator's file, FIDO MDS, the community list), as fido2Methods' model.
  function model(m) {
    const td = el('td', {class: 'model'}, m.model || el('span', {}, 'Unknown authenticator', el('br'), el('small', {class: 'code'}, m.aaGuid || '')));
    authenticatorInfo(m.aaGuid).then((info) => {
      const icon = authenticatorIcon(info);
      if (icon) td.prepend(icon, ' ');
    });
    return td;
  }

  function row(m) {
    const name = m.displayName || '(unnamed passkey)';
    const tr = el('tr', {'data-id': m.id},
      el('th', {scope: 'row', class: 'name'}, name),
      model(m),
      el('td', {}, m.passkeyType === 'synced' ? 'Synced' : m.passkeyType === 'deviceBound' ? 'Device-bound' : (m.passkeyType || '—')),
      el('td', {}, m.attestationLevel === 'attested' ? 'Attested' : m.attestationLevel === 'notAttested' ? 'Not attested' : (m.attestationLevel || '—')),
      el('td', {}, fmtDate(m.createdDateTime)),
      el('td', {}, m.lastUsedDateTime ? fmtDate(m.lastUsedDateTime) : 'Never'));
    const actions = el('td', {class: 'actions'});
    const rename = el('button', {type: 'button', class: 'rename', 'aria-label': 'Rename ' + name}, 'Rename');
    const del = el('button', {type: 'button', class: 'danger delete', 'aria-label': 'Delete ' + name}, 'Delete');
    actions.append(rename, ' ', del);
    tr.append(actions);

    rename.addEventListener('click', () => {
      const id = 'rename-' + m.id;
      const input = el('input', {id, value: m.displayName || '', maxlength: 64, autocomplete: 'off'});
      const form = el('form', {class: 'inline'},
        el('label', {for: id, class: 'sr-only'}, 'New name for ' + name), input,
        el('button', {type: 'submit', class: 'primary'}, 'Save'),
        el('button', {type: 'button', onclick: () => load()}, 'Cancel'));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearAlert();
        const res = await call('PATCH', '/me/authentication/fido2Methods/' + encodeURIComponent(m.id), {displayName: input.value.trim()});
        if (!res.ok) { failWith(res); input.focus(); return; }
        await load('Renamed to “' + res.data.displayName + '”.');
        await signalAccepted('user');
      });
      tr.querySelector('.name').replaceChildren(form);
      input.focus();
      input.select();
    });

    del.addEventListener('click', () => {
      const yes = el('button', {type: 'button', class: 'danger confirm-delete'}, 'Delete it');
      const no = el('button', {type: 'button', onclick: () => load()}, 'Keep');
      yes.addEventListener('click', async () => {
        clearAlert();
        const res = await call('DELETE', '/me/authentication/fido2Methods/' + encodeURIComponent(m.id));
        if (!res.ok) { failWith(res); return; }
        await load('Deleted “' + name + '”.');
        // The browser's passkey manager may now drop the deleted passkey.
        await signalAccepted('credentials');
        $('passkeys-title').focus();
      });
      actions.replaceChildren(el('span', {}, 'Delete “' + name + '”? '), yes, ' ', no);
      no.focus();
    });
    return tr;
  }

  $('register-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearAlert();
    if (!webauthnAvailable()) { fail('webauthnUnavailable', 'This browser cannot create passkeys here.'); return; }
    const displayName = $('passkey-name').value.trim();
    say('Asking the server for registration options…');
    const begin = await call('POST', '/webauthn/registration/begin', displayName ? {displayName} : {});
    if (!begin.ok) { failWith(begin); return; }
    let cred;
    try {
      say('Create the passkey on your authenticator…');
      cred = await navigator.credentials.create({publicKey: creationFromJSON(begin.data.publicKey)});
    } catch (err) { browserFailure(err); return; }
    say('Checking the new passkey against your organisation’s policy…');
    const fin = await call('POST', '/webauthn/registration/finish', toJSON(cred));
    if (!fin.ok) { failWith(fin); return; }
    $('passkey-name').value = '';
    const m = fin.data;
    await load('Passkey “' + (m.displayName || m.model || 'passkey') + '” registered' +
      (m.model ? ' (' + m.model + ')' : '') + '. You can rename it in the list.');
  });
  $('passkeys-title').setAttribute('tabindex', '-1');
  await load();
}
