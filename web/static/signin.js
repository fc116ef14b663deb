// The sign-in page: the UPN first, then the method the server prompts for
// (passkey, TAP, password, push, code), step-up and "Sign in another way".

import {$, el, ready, say, clearAlert, fail, failWith} from './dom.js';
import {call, codeOf} from './api.js';
import {requestFromJSON, toJSON, browserFailure, webauthnAvailable, conditionalMediationAvailable,
  signalUnknownCredential} from './webauthn.js';
import {methodName} from './format.js';

export default function signinPage() {
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
    for (const id of ['stepup', 'alternatives', 'who', 'restart', 'campaign']) $(id).hidden = true;
    $('upn-form').hidden = false;
    $('heading').textContent = 'Sign in';
    $('upn').focus();
  }

  // proceed goes where a completed sign-in leads: back to the app of an
  // OpenID Connect sign-in, else Security info.
  function proceed() {
    if (authRequest) {
      say('Signed in. Returning to the application…');
      location.assign('/oauth2/login/complete?authRequest=' + encodeURIComponent(authRequest));
      return;
    }
    say('Signed in. Opening Security info…');
    location.assign('/security-info');
  }

  // setupURL is Security info set to explain the campaign's method; an
  // OpenID Connect sign-in's request goes along so the user can go on to
  // the application from there.
  function setupURL() {
    return '/security-info?setup=microsoftAuthenticator' + (authRequest ? '&authRequest=' + encodeURIComponent(authRequest) : '');
  }

  // interrupt is the registration campaign's nudge after a completed
  // sign-in (registrationCampaign in the answer): set up the method now
  // (Security info), or skip while snoozes remain (the server counts them).
  function interrupt(c) {
    const left = c.snoozesRemaining;
    const what = c.targetedAuthenticationMethod === 'microsoftAuthenticator' ? 'Microsoft Authenticator' : methodName(c.targetedAuthenticationMethod);
    for (const id of ['upn-form', 'stepup', 'alternatives']) $(id).hidden = true;
    $('heading').textContent = 'Signed in';
    if (!c.canSnooze) {
      // No snoozes left under enforcement: registration it is.
      say('Your organization requires you to set up ' + what + ' now. Opening Security info…');
      location.assign(setupURL());
      return;
    }
    say('');
    $('campaign-text').textContent = 'Your organization asks you to set up ' + what + ' so you can sign in with a passkey and approve sign-ins. ' +
      (left < 0 ? 'You can skip this for now.' : 'You can skip this ' + left + (left === 1 ? ' more time.' : ' more times.'));
    $('campaign').hidden = false;
    $('campaign-setup').focus();
  }
  $('campaign-setup').addEventListener('click', () => {
    say('Opening Security info to set it up…');
    location.assign(setupURL());
  });
  $('campaign-skip').addEventListener('click', async () => {
    clearAlert();
    const res = await call('POST', '/signin/registrationCampaign/snooze');
    if (!res.ok) { failWith(res); $('campaign-skip').hidden = true; return; }
    $('campaign').hidden = true;
    proceed();
  });

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
      if (out.registrationCampaign) { interrupt(out.registrationCampaign); return; }
      proceed();
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

  // finishPasskey sends the assertion; when the server does not know the
  // passkey (deleted here), the browser is told so it can stop offering it.
  async function finishPasskey(pk, cred, flowToken) {
    say('Checking the passkey…');
    const res = await call('POST', '/signin/passkey/finish', flowToken ? {flowToken, credential: toJSON(cred)} : {credential: toJSON(cred)});
    if (codeOf(res) === 'unknownCredential') await signalUnknownCredential(pk.rpId, cred.id);
    outcome(res);
  }

  // Passkey autofill (conditional mediation): the username field offers
  // the passkeys the browser holds for this site; picking one signs in
  // without typing the UPN. Only one WebAuthn request may be pending, so
  // it is aborted before any other starts. Not for an app's sign-in
  // (authRequest), whose flow starts from the UPN.
  let autofill = null;
  async function startAutofill() {
    if (authRequest || !(await conditionalMediationAvailable())) return;
    const begin = await call('POST', '/signin/passkey/begin', {});
    if (!begin.ok) return; // the typed-UPN path still works
    autofill = new AbortController();
    let cred;
    try {
      cred = await navigator.credentials.get({mediation: 'conditional', signal: autofill.signal, publicKey: requestFromJSON(begin.data.publicKey)});
    } catch (err) {
      if (err && err.name !== 'AbortError') browserFailure(err);
      return;
    } finally {
      autofill = null;
    }
    clearAlert();
    await finishPasskey(begin.data.publicKey, cred, '');
  }
  const stopAutofill = () => { if (autofill) autofill.abort(); };

  $('passkey-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearAlert();
    if (!webauthnAvailable()) { fail('webauthnUnavailable', 'This browser cannot use passkeys here.'); return; }
    stopAutofill();
    say('Preparing the passkey prompt…');
    const begin = await call('POST', '/signin/passkey/begin', {flowToken: flow});
    if (!begin.ok) { failWith(begin); return; }
    let cred;
    try {
      say('Confirm with your passkey…');
      cred = await navigator.credentials.get({publicKey: requestFromJSON(begin.data.publicKey)});
    } catch (err) { browserFailure(err); return; }
    await finishPasskey(begin.data.publicKey, cred, flow);
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
  ready();
  $('upn').focus();
  startAutofill();
}
