// The passkey (FIDO2) method: its state, passkey profiles (AAGUID lists
// shown with the catalog's model names and icons) and targets.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {authenticatorInfo, authenticatorIcon} from '../webauthn.js';
import {dl, table, directoryNames} from './form.js';

export default async function render(ctx) {
  ctx.heading('Passkey profiles');
  const res = await ctx.graph('GET', '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2');
  if (!res.ok) return ctx.failWith(res);
  const {nameOf} = await directoryNames(ctx);
  const c = res.data;
  const profiles = c.passkeyProfiles || [];
  // Model names for the AAGUID lists, from the server's catalog
  // (GET /webauthn/authenticators/{aaguid}); unknown ones stay as AAGUIDs.
  const models = {};
  const listed = [...new Set(profiles.flatMap((p) => (p.keyRestrictions && p.keyRestrictions.aaGuids) || []).map((a) => String(a).toLowerCase()))];
  await Promise.all(listed.map(async (a) => {
    const info = await authenticatorInfo(a);
    if (info && info.name) models[a] = info;
  }));
  const modelOf = (a) => (models[String(a).toLowerCase()] ? models[String(a).toLowerCase()].name + ' (' + a + ')' : a);
  // modelList is the AAGUID list with each model's icon and name.
  const modelList = (aaguids) => el('span', {}, aaguids.flatMap((a, i) => {
    const icon = authenticatorIcon(models[String(a).toLowerCase()]);
    return [i ? ', ' : '', icon, icon ? ' ' : '', modelOf(a)];
  }));
  const pname = {};
  for (const p of profiles) pname[p.id] = p.name;
  ctx.view.append(
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
          ? [p.keyRestrictions.enforcementType === 'allow' ? 'Allow only: ' : 'Block: ', modelList(p.keyRestrictions.aaGuids || [])]
          : 'None'))))
      : el('p', {}, 'No passkey profiles yet.'),
    table('Included targets', ['Target', 'Type', 'Registration required', 'Passkey profiles'],
      (c.includeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType),
        el('td', {}, t.isRegistrationRequired ? 'Yes' : 'No'), el('td', {}, (t.allowedPasskeyProfiles || []).map((id) => pname[id] || id).join(', ') || '—')))),
    table('Excluded targets', ['Target', 'Type'],
      (c.excludeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))));
}
