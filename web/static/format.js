// Display helpers: dates, method and result names, result badges.

import {el} from './dom.js';
import {call} from './api.js';

// ---- formatting ----

export const fmtDate = (s) => {
  if (!s || s.startsWith('0001-')) return '—';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'});
};

export const methodNames = {
  fido2: 'Passkey (FIDO2)', password: 'Password', temporaryAccessPassOneTime: 'Temporary Access Pass (one-time)',
  temporaryAccessPassMultiUse: 'Temporary Access Pass', microsoftAuthenticatorPush: 'Microsoft Authenticator (push)',
  softwareOath: 'Verification code (authenticator app)', hardwareOath: 'Hardware token code', sms: 'Text message',
  voice: 'Voice call', email: 'Email code', windowsHelloForBusiness: 'Windows Hello for Business',
};
export const methodName = (m) => methodNames[m] || m;

export const resultNames = {
  success: 'Success', failure: 'Failure', notApplied: 'Not applied', notEnabled: 'Disabled',
  reportOnlySuccess: 'Report-only: success', reportOnlyFailure: 'Report-only: failure',
  reportOnlyNotApplied: 'Report-only: not applied', reportOnlyInterrupted: 'Report-only: interrupted',
  enabled: 'On', disabled: 'Off', enabledForReportingButNotEnforced: 'Report-only',
};
export const resultName = (r) => resultNames[r] || r || '—';
export const badge = (r) => el('span', {class: 'badge ' + (/[Ff]ailure|blocked|disabled/.test(r) ? 'bad' : /[Ss]uccess|enabled$/.test(r) ? 'good' : 'neutral')}, resultName(r));
