// rpserver lab pages: sign-in, Security Info and the admin views.
// Plain JavaScript, no framework, nothing loaded from elsewhere: the
// Content-Security-Policy allows only this file. Data is put in the page
// with textContent (never innerHTML) so server text cannot become markup.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // el builds an element: el('td', {class: 'x'}, 'text', child, ...).
  function el(tag, attrs, ...kids) {
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

  function say(msg) {
    const s = $('status');
    if (s) s.textContent = msg || '';
  }

  function clearAlert() {
    const a = $('alert');
    if (a) { a.hidden = true; a.textContent = ''; }
  }

  // fail shows a refusal with its stable code, so a tester can match it
  // against the README (e.g. syncedPasskeyNotAllowed, aaguidNotAllowed).
  function fail(code, message) {
    const a = $('alert');
    say('');
    a.textContent = '';
    a.append(el('strong', {class: 'code'}, code || 'error'), ' ', el('span', {}, message || ''));
    a.hidden = false;
  }

  function failWith(res) {
    const e = (res.data && res.data.error) || {};
    fail(e.code || 'http_' + res.status, e.message || 'The server answered ' + res.status + '.');
  }

  // ---- the JSON API ----

  async function call(method, path, body, token) {
    const headers = {Accept: 'application/json'};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    let r;
    try {
      r = await fetch(path, {method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (err) {
      return {ok: false, status: 0, data: {error: {code: 'networkError', message: String(err)}}};
    }
    let data = null;
    const text = await r.text();
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    return {ok: r.ok, status: r.status, data};
  }

  const codeOf = (res) => (res.data && res.data.error && res.data.error.code) || '';

  // ---- WebAuthn: base64url JSON <-> ArrayBuffers ----

  function b64uToBuf(s) {
    s = String(s).replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    const bin = atob(s);
    const b = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
    return b.buffer;
  }

  function bufToB64u(buf) {
    if (!buf) return null;
    const b = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const withIds = (list) => (list || []).map((c) => Object.assign({}, c, {id: b64uToBuf(c.id)}));

  function creationOptions(pk) {
    const o = Object.assign({}, pk, {challenge: b64uToBuf(pk.challenge),
      user: Object.assign({}, pk.user, {id: b64uToBuf(pk.user.id)})});
    if (pk.excludeCredentials) o.excludeCredentials = withIds(pk.excludeCredentials);
    return o;
  }

  function requestOptions(pk) {
    const o = Object.assign({}, pk, {challenge: b64uToBuf(pk.challenge)});
    if (pk.allowCredentials) o.allowCredentials = withIds(pk.allowCredentials);
    return o;
  }

  function credentialJSON(cred) {
    const r = cred.response;
    const response = {clientDataJSON: bufToB64u(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = bufToB64u(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = bufToB64u(r.authenticatorData);
      response.signature = bufToB64u(r.signature);
      response.userHandle = bufToB64u(r.userHandle);
    }
    return {id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}, response};
  }

  // browserFailure explains a rejected navigator.credentials call.
  function browserFailure(err) {
    const name = (err && err.name) || 'Error';
    const msg = {
      NotAllowedError: 'The passkey prompt was cancelled, timed out, or no matching passkey was found.',
      InvalidStateError: 'This authenticator already holds a passkey for your account.',
      SecurityError: 'The browser refused: the page origin does not match the relying party ID.',
      NotSupportedError: 'No authenticator here supports what the server asked for.',
    }[name] || String(err && err.message || err);
    fail('browser:' + name, msg);
  }

  const webauthnAvailable = () => !!(window.PublicKeyCredential && navigator.credentials);

  // ---- formatting ----

  const fmtDate = (s) => {
    if (!s || s.startsWith('0001-')) return '—';
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'});
  };

  const methodNames = {
    fido2: 'Passkey (FIDO2)', password: 'Password', temporaryAccessPassOneTime: 'Temporary Access Pass (one-time)',
    temporaryAccessPassMultiUse: 'Temporary Access Pass', microsoftAuthenticatorPush: 'Microsoft Authenticator (push)',
    softwareOath: 'Verification code (authenticator app)', hardwareOath: 'Hardware token code', sms: 'Text message',
    voice: 'Voice call', email: 'Email code', windowsHelloForBusiness: 'Windows Hello for Business',
  };
  const methodName = (m) => methodNames[m] || m;

  const resultNames = {
    success: 'Success', failure: 'Failure', notApplied: 'Not applied', notEnabled: 'Disabled',
    reportOnlySuccess: 'Report-only: success', reportOnlyFailure: 'Report-only: failure',
    reportOnlyNotApplied: 'Report-only: not applied', reportOnlyInterrupted: 'Report-only: interrupted',
    enabled: 'On', disabled: 'Off', enabledForReportingButNotEnforced: 'Report-only',
  };
  const resultName = (r) => resultNames[r] || r || '—';
  const badge = (r) => el('span', {class: 'badge ' + (/[Ff]ailure|blocked|disabled/.test(r) ? 'bad' : /[Ss]uccess|enabled$/.test(r) ? 'good' : 'neutral')}, resultName(r));

  // ================= sign-in page =================

  function signinPage() {
    const steps = {passkey: 'passkey-form', tap: 'tap-form', password: 'password-form', push: 'push-form', totp: 'totp-form'};
    const modeStep = {fido2: 'passkey', temporaryAccessPassOneTime: 'tap', temporaryAccessPassMultiUse: 'tap',
      password: 'password', microsoftAuthenticatorPush: 'push', softwareOath: 'totp'};
    let upn = '';
    let flow = '';
    let pushTimer = 0;
    // An OpenID Connect sign-in to an app: the provider's pending request.
    const authRequest = new URLSearchParams(location.search).get('authRequest') || '';

    const hideSteps = () => {
      for (const id of Object.values(steps)) $(id).hidden = true;
      $('unsupported').hidden = true;
      clearTimeout(pushTimer);
    };

    function focusFirst(form) {
      const f = form.querySelector('input, button');
      if (f) f.focus();
    }

    function present(mode) {
      hideSteps();
      clearAlert();
      const step = modeStep[mode];
      if (!step) {
        $('unsupported-text').textContent = mode
          ? methodName(mode) + ' cannot be used on this page. Choose another way below.'
          : 'No registered method can complete this sign-in. Ask an administrator for a Temporary Access Pass, then register a passkey.';
        $('unsupported').hidden = false;
        return;
      }
      const form = $(steps[step]);
      if (step === 'push') { $('push-wait').hidden = true; $('push-send').hidden = false; }
      form.hidden = false;
      form.dataset.mode = mode;
      say('Sign in with: ' + methodName(mode));
      focusFirst(form);
    }

    function restart() {
      upn = ''; flow = '';
      hideSteps();
      clearAlert();
      say('');
      for (const id of ['stepup', 'alternatives', 'who', 'restart']) $(id).hidden = true;
      $('upn-form').hidden = false;
      $('heading').textContent = 'Sign in';
      $('upn').focus();
    }

    // outcome handles every answer of the flow (signin.Outcome).
    function outcome(res) {
      if (!res.ok) {
        failWith(res);
        if (codeOf(res) === 'invalidSignInFlow') restart();
        return;
      }
      const out = res.data || {};
      if (out.status === 'completed' || (!out.status && out.sessionToken)) {
        hideSteps();
        if (authRequest) {
          say('Signed in. Returning to the application…');
          location.assign('/oauth2/login/complete?authRequest=' + encodeURIComponent(authRequest));
          return;
        }
        say('Signed in. Opening Security info…');
        location.assign('/security-info');
        return;
      }
      flow = out.flowToken || flow;
      $('upn-form').hidden = true;
      $('who').textContent = out.userPrincipalName || upn;
      $('who').hidden = false;
      $('restart').hidden = false;

      // Step-up: say why, and what strength Conditional Access wants.
      const stepup = out.status === 'stepUpRequired';
      $('stepup').hidden = !stepup;
      if (stepup) {
        $('heading').textContent = 'Verify your identity';
        $('stepup-message').textContent = out.message || '';
        const strengths = (out.requirements || []).map((r) => {
          const s = r.authenticationStrength;
          if (s) return 'Required authentication strength: ' + s.displayName +
            (r.allowedCombinations && r.allowedCombinations.length ? ' (' + r.allowedCombinations.join('; ') + ')' : '');
          return (r.displayName ? r.displayName + ': ' : '') + 'requires ' + (r.controls || []).join(' ' + (r.operator || 'and').toLowerCase() + ' ');
        });
        $('stepup-strength').textContent = strengths.join(' · ');
        if (out.errorCode) $('stepup-strength').prepend(el('span', {class: 'code'}, out.errorCode), ' ');
      } else {
        $('heading').textContent = 'Sign in';
      }

      const prompt = out.prompt || {};
      let alts = (prompt.alternatives || []).filter((m) => m !== prompt.method);
      if (!prompt.method && !stepup) alts = ['fido2', 'temporaryAccessPassOneTime', 'password'];
      present(prompt.method || '');
      const list = $('alternatives-list');
      list.textContent = '';
      for (const m of alts) {
        list.append(el('li', {}, el('button', {type: 'button', class: 'link', onclick: () => present(m)}, methodName(m))));
      }
      $('alternatives').hidden = alts.length === 0;
    }

    $('upn-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      upn = $('upn').value.trim();
      if (!upn) { fail('userPrincipalNameRequired', 'Enter your email or username.'); $('upn').focus(); return; }
      say('Looking up your account…');
      outcome(authRequest
        ? await call('POST', '/oauth2/login/begin', {authRequest, userPrincipalName: upn})
        : await call('POST', '/signin/begin', {userPrincipalName: upn}));
    });

    $('passkey-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      if (!webauthnAvailable()) { fail('webauthnUnavailable', 'This browser cannot use passkeys here.'); return; }
      say('Preparing the passkey prompt…');
      const begin = await call('POST', '/signin/passkey/begin', {flowToken: flow});
      if (!begin.ok) { failWith(begin); return; }
      let cred;
      try {
        say('Confirm with your passkey…');
        cred = await navigator.credentials.get({publicKey: requestOptions(begin.data.publicKey)});
      } catch (err) { browserFailure(err); return; }
      say('Checking the passkey…');
      outcome(await call('POST', '/signin/passkey/finish', {flowToken: flow, credential: credentialJSON(cred)}));
    });

    $('tap-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      const pass = $('tap').value.trim();
      if (!pass) { fail('temporaryAccessPassRequired', 'Enter the Temporary Access Pass you were given.'); return; }
      say('Checking the pass…');
      const res = await call('POST', '/signin/tap', {flowToken: flow, userPrincipalName: upn, temporaryAccessPass: pass});
      $('tap').value = '';
      outcome(res);
    });

    $('password-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      say('Checking the password…');
      const res = await call('POST', '/signin/password', {flowToken: flow, password: $('password').value});
      $('password').value = '';
      outcome(res);
    });

    $('totp-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      const res = await call('POST', '/signin/totp', {flowToken: flow, code: $('totp').value.trim()});
      $('totp').value = '';
      outcome(res);
    });

    $('push-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearAlert();
      const begin = await call('POST', '/signin/push/begin', {flowToken: flow});
      if (!begin.ok) { failWith(begin); return; }
      const ch = begin.data;
      $('push-send').hidden = true;
      $('push-number').textContent = String(ch.numberMatch);
      $('push-wait').hidden = false;
      say('Request sent. Enter ' + ch.numberMatch + ' in Microsoft Authenticator.');
      const until = Date.parse(ch.expiresDateTime) || Date.now() + 120000;
      const poll = async () => {
        const res = await call('POST', '/signin/push/complete', {flowToken: flow, pushRequestId: ch.pushRequestId});
        if (codeOf(res) === 'pushPending' && Date.now() < until) { pushTimer = setTimeout(poll, 1500); return; }
        $('push-wait').hidden = true;
        $('push-send').hidden = false;
        outcome(res);
      };
      pushTimer = setTimeout(poll, 1500);
    });

    $('restart').addEventListener('click', restart);
    const q = new URLSearchParams(location.search).get('upn');
    if (q) $('upn').value = q;
    // An app that named the account (login_hint), or a step-up for the
    // signed-in user: go straight to the credential, as Entra does.
    if (q && authRequest) $('upn-form').requestSubmit();
    $('upn').focus();
  }

  // ================= Security Info =================

  async function securityInfoPage() {
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

    function row(m) {
      const name = m.displayName || '(unnamed passkey)';
      const tr = el('tr', {'data-id': m.id},
        el('th', {scope: 'row', class: 'name'}, name),
        el('td', {}, m.model || el('span', {}, 'Unknown authenticator', el('br'), el('small', {class: 'code'}, m.aaGuid || ''))),
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
        cred = await navigator.credentials.create({publicKey: creationOptions(begin.data.publicKey)});
      } catch (err) { browserFailure(err); return; }
      say('Checking the new passkey against your organisation’s policy…');
      const fin = await call('POST', '/webauthn/registration/finish', credentialJSON(cred));
      if (!fin.ok) { failWith(fin); return; }
      $('passkey-name').value = '';
      const m = fin.data;
      await load('Passkey “' + (m.displayName || m.model || 'passkey') + '” registered' +
        (m.model ? ' (' + m.model + ')' : '') + '. You can rename it in the list.');
    });
    $('passkeys-title').setAttribute('tabindex', '-1');
    await load();
  }

  // ================= admin views =================

  const adminTokenKey = 'rpserver.adminToken';

  function tokenClaims(tok) {
    try {
      return JSON.parse(new TextDecoder().decode(b64uToBuf(tok.split('.')[1])));
    } catch (_) { return null; }
  }

  async function adminPage() {
    const view = $('view');
    const path = location.pathname.replace(/\/+$/, '') || '/admin';
    for (const a of document.querySelectorAll('nav.side a')) {
      if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page');
    }
    let token = sessionStorage.getItem(adminTokenKey) || '';

    function forget(reason) {
      token = '';
      sessionStorage.removeItem(adminTokenKey);
      $('forget-token').hidden = true;
      $('who').hidden = true;
      view.textContent = '';
      $('auth').hidden = false;
      if (reason) fail(reason.code, reason.message); else say('Admin token forgotten.');
    }

    async function graph(p) {
      const res = await call('GET', '/v1.0' + p, undefined, token);
      if (res.status === 401) forget({code: codeOf(res) || 'InvalidAuthenticationToken', message: 'The admin token is no longer valid; get a new one.'});
      return res;
    }

    async function useToken(tok) {
      const c = tokenClaims(tok);
      if (!c || c.aud !== 'rpserver-admin' && !(Array.isArray(c.aud) && c.aud.includes('rpserver-admin'))) {
        fail('invalidAdminToken', 'That is not an rpserver admin token (audience rpserver-admin).');
        return;
      }
      if (c.exp && c.exp * 1000 < Date.now()) { fail('adminTokenExpired', 'That token has expired.'); return; }
      token = tok;
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

    // Directory names for ids in policies (best effort: a role that may
    // not list users still sees the ids).
    let names = null;
    async function directoryNames() {
      if (names) return names;
      names = {All: 'All users', None: 'Nobody', all_users: 'All users', GuestsOrExternalUsers: 'Guests or external users'};
      for (const [p, label] of [['/groups?$top=999', 'displayName'], ['/users?$top=999', 'userPrincipalName']]) {
        const res = await call('GET', '/v1.0' + p, undefined, token);
        if (res.ok) for (const o of res.data.value || []) names[o.id] = o[label];
      }
      return names;
    }
    const nameOf = (id) => (names && names[id]) || id;
    const list = (ids) => (ids && ids.length ? ids.map(nameOf).join(', ') : '—');

    function dl(pairs) {
      const d = el('dl', {class: 'props'});
      for (const [k, v] of pairs) d.append(el('dt', {}, k), el('dd', {}, v));
      return d;
    }

    function table(caption, headers, rows) {
      if (!rows.length) return el('p', {}, el('strong', {}, caption + ': '), 'none');
      return el('table', {},
        el('caption', {}, caption),
        el('thead', {}, el('tr', {}, headers.map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, rows));
    }

    function heading(title) {
      $('heading').textContent = title;
      document.title = title + ' · rpserver lab';
    }

    async function passkeyProfiles() {
      heading('Passkey profiles');
      const res = await graph('/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2');
      if (!res.ok) return failWith(res);
      await directoryNames();
      const c = res.data;
      const profiles = c.passkeyProfiles || [];
      // Model names for the AAGUID lists, from the server's catalog
      // (GET /webauthn/authenticators/{aaguid}); unknown ones stay as AAGUIDs.
      const models = {};
      const listed = [...new Set(profiles.flatMap((p) => (p.keyRestrictions && p.keyRestrictions.aaGuids) || []).map((a) => String(a).toLowerCase()))];
      await Promise.all(listed.map(async (a) => {
        const r = await call('GET', '/webauthn/authenticators/' + encodeURIComponent(a));
        if (r.ok && r.data.name) models[a] = r.data.name;
      }));
      const modelOf = (a) => (models[String(a).toLowerCase()] ? models[String(a).toLowerCase()] + ' (' + a + ')' : a);
      const pname = {};
      for (const p of profiles) pname[p.id] = p.name;
      view.append(
        el('h2', {}, 'Passkey (FIDO2) method'),
        dl([['State', badge(c.state)], ['Self-service setup', c.isSelfServiceRegistrationAllowed ? 'Allowed' : 'Not allowed'],
          ['Passkey profiles', c.defaultPasskeyProfile ? 'Enabled (default: ' + (pname[c.defaultPasskeyProfile] || c.defaultPasskeyProfile) + ')' : 'Not enabled: legacy global settings apply'],
          ['Legacy attestation enforced', c.isAttestationEnforced ? 'Yes' : 'No']]),
        profiles.length ? table('Profiles (' + profiles.length + ' of at most 10)', ['Name', 'Passkey types', 'Attestation', 'Key restrictions'],
          profiles.map((p) => el('tr', {},
            el('th', {scope: 'row'}, p.name),
            el('td', {}, String(p.passkeyTypes || '').split(',').map((t) => t.trim() === 'deviceBound' ? 'Device-bound' : t.trim() === 'synced' ? 'Synced' : t.trim()).join(', ')),
            el('td', {}, p.attestationEnforcement === 'registrationOnly' ? 'Enforced at registration' : p.attestationEnforcement === 'disabled' ? 'Not enforced' : p.attestationEnforcement),
            el('td', {}, p.keyRestrictions && p.keyRestrictions.isEnforced
              ? (p.keyRestrictions.enforcementType === 'allow' ? 'Allow only: ' : 'Block: ') + (p.keyRestrictions.aaGuids || []).map(modelOf).join(', ')
              : 'None'))))
          : el('p', {}, 'No passkey profiles yet.'),
        table('Included targets', ['Target', 'Type', 'Registration required', 'Passkey profiles'],
          (c.includeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType),
            el('td', {}, t.isRegistrationRequired ? 'Yes' : 'No'), el('td', {}, (t.allowedPasskeyProfiles || []).map((id) => pname[id] || id).join(', ') || '—')))),
        table('Excluded targets', ['Target', 'Type'],
          (c.excludeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))));
    }

    async function tapPolicy() {
      heading('Temporary Access Pass');
      const res = await graph('/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass');
      if (!res.ok) return failWith(res);
      await directoryNames();
      const c = res.data;
      view.append(
        dl([['State', badge(c.state)], ['Minimum lifetime', c.minimumLifetimeInMinutes + ' min'], ['Maximum lifetime', c.maximumLifetimeInMinutes + ' min'],
          ['Default lifetime', c.defaultLifetimeInMinutes + ' min'], ['Length', String(c.defaultLength)], ['One-time use', c.isUsableOnce ? 'Yes' : 'No']]),
        table('Included targets', ['Target', 'Type'], (c.includeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))),
        table('Excluded targets', ['Target', 'Type'], (c.excludeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))));
    }

    function conditionsSummary(c) {
      const u = c.users || {};
      const parts = [];
      const inc = [].concat(u.includeUsers || [], u.includeGroups || [], u.includeRoles || []);
      const exc = [].concat(u.excludeUsers || [], u.excludeGroups || [], u.excludeRoles || []);
      parts.push('Users: ' + list(inc) + (exc.length ? '; excluding ' + list(exc) : ''));
      const a = c.applications || {};
      const apps = (ids) => (ids && ids.length ? ids.map((id) => ({All: 'All resources', None: 'None', Office365: 'Office 365'}[id] || id)).join(', ') : '—');
      parts.push('Apps: ' + apps(a.includeApplications) + ((a.excludeApplications || []).length ? '; excluding ' + apps(a.excludeApplications) : ''));
      if ((c.clientAppTypes || []).length) parts.push('Client apps: ' + c.clientAppTypes.join(', '));
      if (c.platforms) parts.push('Platforms: ' + list(c.platforms.includePlatforms));
      if ((c.userRiskLevels || []).length) parts.push('User risk: ' + c.userRiskLevels.join(', '));
      if ((c.signInRiskLevels || []).length) parts.push('Sign-in risk: ' + c.signInRiskLevels.join(', '));
      return parts.map((p) => el('div', {}, p));
    }

    function grantSummary(g) {
      if (!g) return '—';
      const parts = (g.builtInControls || []).map((x) => ({mfa: 'Require MFA', block: 'Block access', compliantDevice: 'Compliant device', domainJoinedDevice: 'Hybrid joined device', passwordChange: 'Password change'}[x] || x));
      if (g.authenticationStrength) parts.push('Authentication strength: ' + (g.authenticationStrength.displayName || g.authenticationStrength.id));
      return parts.join(' ' + (g.operator || 'OR') + ' ') || '—';
    }

    async function caPolicies() {
      heading('Conditional Access policies');
      const res = await graph('/identity/conditionalAccess/policies');
      if (!res.ok) return failWith(res);
      await directoryNames();
      const ps = res.data.value || [];
      if (!ps.length) { view.append(el('p', {}, 'No Conditional Access policies.')); return; }
      view.append(table('Policies (' + ps.length + ')', ['Policy', 'State', 'Conditions', 'Grant'],
        ps.map((p) => el('tr', {}, el('th', {scope: 'row'}, p.displayName), el('td', {}, badge(p.state)),
          el('td', {class: 'small'}, conditionsSummary(p.conditions || {})), el('td', {}, grantSummary(p.grantControls))))));
    }

    const reasonText = (r) => !r || !r.code ? '' : [r.code, r.condition, r.property && r.value ? r.property + ' = ' + nameOf(r.value) : r.property || r.value,
      r.matched && 'matched ' + r.matched, r.previouslySatisfied && 'previously satisfied'].filter(Boolean).join(' · ');

    // The list's Conditional Access column: the enforced status and, when a
    // report-only policy had something to say, its result too (a report-only
    // success is otherwise just "Not applied").
    function caSummary(s) {
      const order = ['reportOnlyFailure', 'reportOnlyInterrupted', 'reportOnlySuccess'];
      const results = (s.appliedConditionalAccessPolicies || []).map((p) => p.result);
      const ro = order.find((r) => results.includes(r));
      return ro ? el('span', {}, badge(s.conditionalAccessStatus), ' ', badge(ro)) : badge(s.conditionalAccessStatus);
    }

    function signInDetails(s) {
      const ca = (s.appliedConditionalAccessPolicies || []);
      const steps = (s.authenticationDetails || []);
      return el('div', {class: 'details'},
        el('h3', {}, 'Basic info'),
        dl([['Request / correlation id', (s.id || '') + ' / ' + (s.correlationId || '')], ['IP address', s.ipAddress || '—'],
          ['Client app', s.clientAppUsed || '—'], ['Authentication requirement', s.authenticationRequirement || '—'],
          ['Methods used', (s.authenticationMethodsUsed || []).map(methodName).join(', ') || '—'],
          ['Failure reason', (s.status && s.status.failureReason) || '—']]),
        el('h3', {}, 'Conditional Access'),
        ca.length ? table('Policies evaluated (' + resultName(s.conditionalAccessStatus) + ')', ['Policy', 'Result', 'Grant controls', 'Authentication strength', 'Why'],
          ca.map((p) => el('tr', {}, el('th', {scope: 'row'}, p.displayName), el('td', {}, badge(p.result)),
            el('td', {}, (p.enforcedGrantControls || []).join(', ') || '—'),
            el('td', {}, p.authenticationStrength && p.authenticationStrength.displayName
              ? p.authenticationStrength.displayName + ': ' + (p.authenticationStrength.authenticationStrengthResult || '') : '—'),
            el('td', {class: 'small'}, [reasonText(p.explanation && p.explanation.scope), reasonText(p.explanation && p.explanation.grant)].filter(Boolean).join('; ') || p.conditionsNotSatisfied || '—'))))
          : el('p', {}, 'No Conditional Access policy applied to this sign-in.'),
        el('h3', {}, 'Authentication details'),
        steps.length ? table('Authentication steps', ['Date', 'Method', 'Method detail', 'Succeeded', 'Result detail', 'Requirement'],
          steps.map((d) => el('tr', {}, el('td', {}, fmtDate(d.authenticationStepDateTime)), el('th', {scope: 'row'}, methodName(d.authenticationMethod)),
            el('td', {}, d.authenticationMethodDetail || '—'), el('td', {}, d.succeeded ? 'Yes' : 'No'),
            el('td', {}, d.authenticationStepResultDetail || '—'), el('td', {}, d.authenticationStepRequirement || '—'))))
          : el('p', {}, 'No authentication steps recorded.'));
    }

    async function signIns() {
      heading('Sign-in logs');
      const res = await graph('/auditLogs/signIns?$top=100');
      await directoryNames();
      if (res.status === 404 && codeOf(res) === 'Request_UnsupportedQuery') {
        view.append(el('p', {}, 'This server does not serve /auditLogs/signIns yet.'));
        return;
      }
      if (!res.ok) return failWith(res);
      const list = res.data.value || [];
      if (!list.length) { view.append(el('p', {}, 'No sign-ins recorded yet.')); return; }
      const body = el('tbody', {});
      list.forEach((s, i) => {
        const detailId = 'signin-detail-' + i;
        const ok = s.status && s.status.errorCode === 0;
        const btn = el('button', {type: 'button', class: 'expand', 'aria-expanded': 'false', 'aria-controls': detailId}, 'Details');
        const detail = el('tr', {id: detailId, class: 'detail', hidden: true}, el('td', {colspan: 7}, signInDetails(s)));
        btn.addEventListener('click', () => {
          const open = btn.getAttribute('aria-expanded') !== 'true';
          btn.setAttribute('aria-expanded', String(open));
          btn.textContent = open ? 'Hide' : 'Details';
          detail.hidden = !open;
        });
        body.append(el('tr', {class: 'signin'},
          el('td', {}, fmtDate(s.createdDateTime)),
          el('th', {scope: 'row'}, s.userPrincipalName || s.userId),
          el('td', {}, s.appDisplayName || s.appId),
          el('td', {}, ok ? badge('success') : el('span', {}, badge('failure'), ' ', el('span', {class: 'code'}, String(s.status && s.status.errorCode)))),
          el('td', {}, caSummary(s)),
          el('td', {}, (s.authenticationMethodsUsed || []).map(methodName).join(', ') || '—'),
          el('td', {}, btn)), detail);
      });
      view.append(el('table', {class: 'signins'}, el('caption', {}, list.length + ' most recent sign-ins'),
        el('thead', {}, el('tr', {}, ['Date', 'User', 'Application', 'Status', 'Conditional Access', 'Methods', ''].map((h) => el('th', {scope: 'col'}, h || el('span', {class: 'sr-only'}, 'Details'))))),
        body));
    }

    function overview() {
      heading('Admin');
      view.append(el('ul', {class: 'tiles'},
        [['/admin/passkey-profiles', 'Passkey profiles', 'FIDO2 method, profiles and who they target'],
          ['/admin/temporary-access-pass', 'Temporary Access Pass', 'Lifetimes, length and targets'],
          ['/admin/conditional-access', 'Conditional Access', 'Policies, state, conditions and grants'],
          ['/admin/sign-ins', 'Sign-in logs', 'Each sign-in with its Conditional Access and authentication details']]
          .map(([href, t, d]) => el('li', {}, el('a', {href}, t), el('span', {}, d)))));
    }

    async function render() {
      view.textContent = '';
      clearAlert();
      say('Loading…');
      const views = {'/admin/passkey-profiles': passkeyProfiles, '/admin/temporary-access-pass': tapPolicy,
        '/admin/conditional-access': caPolicies, '/admin/sign-ins': signIns};
      await (views[path] || overview)();
      if (token) say('');
    }

    if (token) await useToken(token);
    else $('auth').hidden = false;
  }

  const pages = {signin: signinPage, 'security-info': securityInfoPage, admin: adminPage};
  const run = pages[document.body.dataset.page];
  if (run) {
    Promise.resolve(run()).catch((err) => fail('scriptError', String(err && err.message || err)));
  }
})();
