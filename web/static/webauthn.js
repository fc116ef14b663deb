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
