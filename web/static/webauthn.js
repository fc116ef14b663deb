// WebAuthn glue: the server's base64url JSON options to the ArrayBuffers
// navigator.credentials wants, and the credential back to JSON.

import {$, fail} from './dom.js';
import {call} from './api.js';

// ---- WebAuthn: base64url JSON <-> ArrayBuffers ----

export function b64uToBuf(s) {
  s = String(s).replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) s += '=';
  const bin = atob(s);
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
  return b.buffer;
}

export function bufToB64u(buf) {
  if (!buf) return null;
  const b = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export const withIds = (list) => (list || []).map((c) => Object.assign({}, c, {id: b64uToBuf(c.id)}));

export function creationOptions(pk) {
  const o = Object.assign({}, pk, {challenge: b64uToBuf(pk.challenge),
    user: Object.assign({}, pk.user, {id: b64uToBuf(pk.user.id)})});
  if (pk.excludeCredentials) o.excludeCredentials = withIds(pk.excludeCredentials);
  return o;
}

export function requestOptions(pk) {
  const o = Object.assign({}, pk, {challenge: b64uToBuf(pk.challenge)});
  if (pk.allowCredentials) o.allowCredentials = withIds(pk.allowCredentials);
  return o;
}

export function credentialJSON(cred) {
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
export function browserFailure(err) {
  const name = (err && err.name) || 'Error';
  const msg = {
    NotAllowedError: 'The passkey prompt was cancelled, timed out, or no matching passkey was found.',
    InvalidStateError: 'This authenticator already holds a passkey for your account.',
    SecurityError: 'The browser refused: the page origin does not match the relying party ID.',
    NotSupportedError: 'No authenticator here supports what the server asked for.',
  }[name] || String(err && err.message || err);
  fail('browser:' + name, msg);
}

export const webauthnAvailable = () => !!(window.PublicKeyCredential && navigator.credentials);

// ---- WebAuthn Level 3: the browsers' JSON helpers, with a fallback ----

const PKC = () => window.PublicKeyCredential || {};

// creationFromJSON turns the server's creation options (JSON) into what
// navigator.credentials.create takes: the browser's own parser where it
// has one (it knows every field, hints included), else ours.
export function creationFromJSON(pk) {
  if (typeof PKC().parseCreationOptionsFromJSON === 'function') {
    try { return PKC().parseCreationOptionsFromJSON(pk); } catch (_) { /* fall back */ }
  }
  return creationOptions(pk);
}

export function requestFromJSON(pk) {
  if (typeof PKC().parseRequestOptionsFromJSON === 'function') {
    try { return PKC().parseRequestOptionsFromJSON(pk); } catch (_) { /* fall back */ }
  }
  return requestOptions(pk);
}

// toJSON is the credential as the server reads it: the browser's
// PublicKeyCredential.toJSON() where it exists, else ours.
export function toJSON(cred) {
  if (cred && typeof cred.toJSON === 'function') {
    try { return cred.toJSON(); } catch (_) { /* fall back */ }
  }
  return credentialJSON(cred);
}

// conditionalMediationAvailable: passkey autofill on the username field.
export async function conditionalMediationAvailable() {
  if (!webauthnAvailable() || typeof PKC().isConditionalMediationAvailable !== 'function') return false;
  try { return await PKC().isConditionalMediationAvailable(); } catch (_) { return false; }
}

// ---- the Signal API: tell the browser's passkey manager what changed ----
// Signals are best effort: a browser without them, or one that refuses,
// changes nothing on the server, so failures are not shown.

async function signal(name, arg) {
  if (typeof PKC()[name] !== 'function') return false;
  try { await PKC()[name](arg); return true; } catch (_) { return false; }
}

// signalUnknownCredential: the server does not know this passkey (deleted
// here, or made for another account database), so the browser may hide it.
export const signalUnknownCredential = (rpId, credentialId) => signal('signalUnknownCredential', {rpId, credentialId});

// signalAccepted sends the user's accepted credential IDs and names, from
// GET /me/webauthn/signals, after a deletion or a rename.
export async function signalAccepted(what) {
  const res = await call('GET', '/me/webauthn/signals');
  if (!res.ok) return;
  const st = res.data;
  if (what === 'credentials') {
    await signal('signalAllAcceptedCredentials', {rpId: st.rpId, userId: st.userId, allAcceptedCredentialIds: st.allAcceptedCredentialIds});
  } else {
    await signal('signalCurrentUserDetails', {rpId: st.rpId, userId: st.userId, name: st.name, displayName: st.displayName});
  }
}

// ---- the authenticator catalog: names and icons by AAGUID ----

const catalog = new Map();

// authenticatorInfo is GET /webauthn/authenticators/{aaguid}, cached per
// page; null when the catalog does not know the AAGUID.
export function authenticatorInfo(aaguid) {
  const key = String(aaguid || '').toLowerCase();
  if (!key || key === '00000000-0000-0000-0000-000000000000') return Promise.resolve(null);
  if (!catalog.has(key)) {
    catalog.set(key, call('GET', '/webauthn/authenticators/' + encodeURIComponent(key)).then((r) => (r.ok ? r.data : null)));
  }
  return catalog.get(key);
}

// authenticatorIcon is an <img> of the model's icon for the current color
// scheme (data: URIs only, which the CSP allows), or null.
export function authenticatorIcon(info) {
  if (!info) return null;
  const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  const src = (dark ? info.iconDark || info.iconLight : info.iconLight || info.iconDark) || '';
  if (!/^data:image\/(svg\+xml|png);base64,/.test(src)) return null;
  const img = document.createElement('img');
  img.src = src;
  img.alt = '';
  img.className = 'authenticator-icon';
  img.width = 20;
  img.height = 20;
  return img;
}
