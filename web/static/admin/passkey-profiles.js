// The passkey (FIDO2) method: state and self-service setup, passkey
// profiles (add, edit, delete; the AAGUID lists picked from the server's
// authenticator catalog with model names and icons) and the targets with
// the profiles each may use. Every change is a PATCH of the one fido2
// configuration with Graph's semantics (a collection sent replaces the
// stored one), so the page sends the whole list it shows, changed.

import {el} from '../dom.js';
import {call} from '../api.js';
import {badge} from '../format.js';
import {authenticatorInfo, authenticatorIcon} from '../webauthn.js';
import {dl, table, form, action, field, directoryNames} from './form.js';

const path = '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2';
const defaultProfileId = '00000000-0000-0000-0000-000000000001';
const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const typesText = (t) => String(t || '').split(',').map((x) => x.trim() === 'deviceBound' ? 'Device-bound' : x.trim() === 'synced' ? 'Synced' : x.trim()).join(', ');

// modelLabel is an AAGUID with the catalog's icon and name (or the bare
// AAGUID when the catalog does not know it).
function modelLabel(aaguid, info) {
  // A model the catalog names without an icon gets its initial instead,
  // so the list still scans by shape.
  const icon = authenticatorIcon(info) || el('span', {class: 'monogram', 'aria-hidden': 'true', 'data-initial': info && info.name ? info.name[0] : '?'});
  return el('span', {class: 'model'}, icon, info && info.name ? info.name + ' (' + aaguid + ')' : aaguid);
}

// aaguidPicker is the key-restriction list: chosen models as chips, and a
// search over the catalog (GET /webauthn/authenticators?search=) listing
// models with their icons to add; a full AAGUID the catalog does not know
// can be added as is. Its value is the hidden input aaGuids (comma list).
function aaguidPicker(initial, models) {
  const selected = [...initial];
  const hidden = el('input', {type: 'hidden', name: 'aaGuids'});
  const chips = el('ul', {class: 'chips', 'data-picked': ''});
  const search = el('input', {type: 'search', 'data-picker-search': '', autocomplete: 'off', 'aria-label': 'Search the authenticator catalog',
    placeholder: 'Search the catalog by name or AAGUID, e.g. Microsoft Authenticator'});
  const results = el('ul', {class: 'picker-results', 'data-picker-results': '', 'aria-live': 'polite'});
  const info = (a) => models[a];
  function draw() {
    hidden.value = selected.join(',');
    chips.textContent = '';
    if (!selected.length) chips.append(el('li', {class: 'empty'}, 'No models chosen.'));
    for (const a of selected) {
      const rm = el('button', {type: 'button', class: 'link', 'data-action': 'unpick', 'aria-label': 'Remove ' + ((info(a) && info(a).name) || a)}, 'remove');
      rm.addEventListener('click', () => { selected.splice(selected.indexOf(a), 1); draw(); });
      chips.append(el('li', {'data-aaguid': a}, modelLabel(a, info(a)), ' ', rm));
    }
  }
  function pick(a, i) {
    a = a.toLowerCase();
    if (i) models[a] = i;
    if (!selected.includes(a)) selected.push(a);
    draw();
  }
  let seq = 0;
  async function find() {
    const q = search.value.trim();
    const mine = ++seq;
    results.textContent = '';
    if (!q) return;
    const res = await call('GET', '/webauthn/authenticators?top=20&search=' + encodeURIComponent(q));
    if (mine !== seq) return; // a later keystroke's answer wins
    results.textContent = '';
    if (!res.ok) {
      results.append(el('li', {class: 'error', 'data-code': (res.data && res.data.error && res.data.error.code) || ''},
        ((res.data && res.data.error) ? res.data.error.code + ': ' + res.data.error.message : 'search failed')));
      return;
    }
    const found = res.data.value || [];
    for (const m of found) {
      const b = el('button', {type: 'button', 'data-action': 'pick', 'data-aaguid': m.aaguid, disabled: selected.includes(m.aaguid)}, 'Add');
      b.addEventListener('click', () => { pick(m.aaguid, m); b.disabled = true; });
      results.append(el('li', {'data-aaguid': m.aaguid}, b, ' ', modelLabel(m.aaguid, m), m.source ? el('span', {class: 'small'}, ' · ' + m.source) : null));
    }
    if (uuidRe.test(q.toLowerCase()) && !found.some((m) => m.aaguid === q.toLowerCase())) {
      const b = el('button', {type: 'button', 'data-action': 'pick', 'data-aaguid': q.toLowerCase()}, 'Add');
      b.addEventListener('click', () => pick(q));
      results.append(el('li', {}, b, ' ' + q.toLowerCase() + ' (not in the catalog)'));
    }
    if (res.data.count > found.length) results.append(el('li', {class: 'small'}, (res.data.count - found.length) + ' more: refine the search.'));
    if (!results.children.length) results.append(el('li', {class: 'small'}, 'No model in the catalog matches.'));
  }
  let timer = 0;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(find, 200); });
  // Enter searches rather than submitting the profile form.
  search.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); clearTimeout(timer); find(); } });
  draw();
  return el('fieldset', {class: 'picker', 'data-picker': 'aaGuids'}, el('legend', {}, 'Models (AAGUIDs)'), hidden, chips, search, results);
}

export default async function render(ctx) {
  ctx.heading('Passkey profiles');
  const res = await ctx.graph('GET', path);
  if (!res.ok) return ctx.failWith(res);
  const {nameOf} = await directoryNames(ctx);
  const groupsRes = await ctx.graphAll('/groups?$top=999');
  const c = res.data;
  const profiles = c.passkeyProfiles || [];
  const include = c.includeTargets || [];
  const exclude = c.excludeTargets || [];
  const check = ctx.canWrite('PATCH ' + path);
  const enabled = !!c.defaultPasskeyProfile;
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };
  const save = (body) => ctx.graph('PATCH', path, body);

  // Model names for the AAGUID lists, from the server's catalog
  // (GET /webauthn/authenticators/{aaguid}); unknown ones stay as AAGUIDs.
  const models = {};
  const listed = [...new Set(profiles.flatMap((p) => (p.keyRestrictions && p.keyRestrictions.aaGuids) || []).map((a) => String(a).toLowerCase()))];
  await Promise.all(listed.map(async (a) => {
    const info = await authenticatorInfo(a);
    if (info && info.name) models[a] = info;
  }));
  const modelList = (aaguids) => el('span', {}, aaguids.flatMap((a, i) => [i ? ', ' : '', modelLabel(a, models[String(a).toLowerCase()])]));
  const pname = {};
  for (const p of profiles) pname[p.id] = p.name;
  const groups = groupsRes.ok ? groupsRes.data.value || [] : [];
  const targetOptions = [['all_users', 'All users']].concat(groups.map((g) => [g.id, g.displayName]));

  // The profile form, for a new profile or (edit) an existing one.
  const editor = el('div', {'data-editor': ''});
  function profileForm(p) {
    const kr = (p && p.keyRestrictions) || {isEnforced: false, enforcementType: 'allow', aaGuids: []};
    return form({name: 'passkey-profile', title: p ? 'Edit ' + p.name : 'Add a passkey profile', action: p ? 'save' : 'add',
      submit: p ? 'Save profile' : 'Add profile', check, what: 'change passkey profiles',
      fields: [
        {name: 'name', label: 'Name', required: true, value: p ? p.name : '', help: 'e.g. Pilot: Microsoft Authenticator only'},
        {name: 'passkeyTypes', label: 'Passkey types', type: 'select', value: p ? p.passkeyTypes : 'deviceBound',
          options: [['deviceBound', 'Device-bound only'], ['synced', 'Synced only'], ['deviceBound,synced', 'Device-bound and synced']]},
        {name: 'attestationEnforcement', label: 'Attestation', type: 'select', value: p ? p.attestationEnforcement : 'disabled',
          options: [['disabled', 'Not enforced'], ['registrationOnly', 'Enforced at registration']],
          help: 'Enforced attestation needs device-bound passkeys only (synced passkeys carry none).'},
        {name: 'isEnforced', label: 'Enforce key restrictions', type: 'checkbox', value: kr.isEnforced},
        {name: 'enforcementType', label: 'Restriction', type: 'select', value: kr.enforcementType,
          options: [['allow', 'Allow only these models'], ['block', 'Block these models']]},
        aaguidPicker((kr.aaGuids || []).map((a) => String(a).toLowerCase()), models),
      ],
      send: (v) => {
        const edited = {name: v.name, passkeyTypes: v.passkeyTypes, attestationEnforcement: v.attestationEnforcement,
          keyRestrictions: {isEnforced: v.isEnforced, enforcementType: v.enforcementType, aaGuids: v.aaGuids ? v.aaGuids.split(',') : []}};
        if (p) edited.id = p.id;
        const list = p ? profiles.map((x) => (x.id === p.id ? edited : x)) : profiles.concat([edited]);
        return save({passkeyProfiles: list});
      },
      after: reload(p ? 'Profile saved.' : 'Profile added.')});
  }
  function edit(p) {
    editor.textContent = '';
    editor.append(profileForm(p));
    editor.querySelector('input[name="name"]').focus();
  }
  editor.append(enabled ? profileForm(null)
    : el('p', {class: 'note'}, 'Passkey profiles are not enabled: tick "Enable passkey profiles" in the method settings to add profiles.'));

  const targetRow = (t) => el('tr', {'data-target': nameOf(t.id)},
    el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType),
    el('td', {}, t.isRegistrationRequired ? 'Yes' : 'No'),
    el('td', {}, (t.allowedPasskeyProfiles || []).map((id) => pname[id] || id).join(', ') || '—'),
    el('td', {class: 'actions'}, action({action: 'remove-target', label: 'Remove', danger: true, check,
      send: () => save({includeTargets: include.filter((x) => x.id !== t.id)}),
      after: reload(nameOf(t.id) + ' is no longer targeted.')})));

  ctx.view.append(
    el('h2', {}, 'Passkey (FIDO2) method'),
    dl([['State', badge(c.state)], ['Self-service setup', c.isSelfServiceRegistrationAllowed ? 'Allowed' : 'Not allowed'],
      ['Passkey profiles', enabled ? 'Enabled (default: ' + (pname[c.defaultPasskeyProfile] || c.defaultPasskeyProfile) + ')' : 'Not enabled: legacy global settings apply'],
      ['Legacy attestation enforced', c.isAttestationEnforced ? 'Yes' : 'No']]),
    form({name: 'fido2-settings', title: 'Method settings', action: 'save', submit: 'Save settings', check, what: 'change the passkey method',
      fields: [
        {name: 'state', label: 'State', type: 'select', value: c.state, options: [['enabled', 'On'], ['disabled', 'Off']]},
        {name: 'isSelfServiceRegistrationAllowed', label: 'Allow self-service setup (users register passkeys in Security info)', type: 'checkbox',
          value: c.isSelfServiceRegistrationAllowed},
      ].concat(enabled ? [] : [{name: 'enablePasskeyProfiles', label: 'Enable passkey profiles (the legacy settings become the Default passkey profile; cannot be undone)', type: 'checkbox'}]),
      send: (v) => {
        const body = {state: v.state, isSelfServiceRegistrationAllowed: v.isSelfServiceRegistrationAllowed};
        if (v.enablePasskeyProfiles) body.defaultPasskeyProfile = defaultProfileId;
        return save(body);
      },
      after: reload('Passkey method saved.')}),
    el('h2', {}, 'Profiles'),
    profiles.length ? table('Profiles (' + profiles.length + ' of at most 10)', ['Name', 'Passkey types', 'Attestation', 'Key restrictions', ''],
      profiles.map((p) => el('tr', {'data-profile': p.name},
        el('th', {scope: 'row'}, p.name),
        el('td', {}, typesText(p.passkeyTypes)),
        el('td', {}, p.attestationEnforcement === 'registrationOnly' ? 'Enforced at registration' : p.attestationEnforcement === 'disabled' ? 'Not enforced' : p.attestationEnforcement),
        el('td', {}, p.keyRestrictions && p.keyRestrictions.isEnforced
          ? [p.keyRestrictions.enforcementType === 'allow' ? 'Allow only: ' : 'Block: ', modelList(p.keyRestrictions.aaGuids || [])]
          : 'None'),
        el('td', {class: 'actions'},
          el('button', {type: 'button', 'data-action': 'edit', disabled: !check.ok, onclick: () => edit(p)}, 'Edit'), ' ',
          p.id === c.defaultPasskeyProfile ? el('span', {class: 'small'}, 'default') : action({action: 'delete', label: 'Delete', danger: true, check,
            confirmText: 'Delete the profile ' + p.name + '?',
            send: () => save({passkeyProfiles: profiles.filter((x) => x.id !== p.id)}),
            after: reload('Profile ' + p.name + ' deleted.')})))))
      : el('p', {}, 'No passkey profiles yet.'),
    editor,
    el('h2', {}, 'Targets'),
    table('Included targets', ['Target', 'Type', 'Registration required', 'Passkey profiles', ''], include.map(targetRow), {'data-targets': 'include'}),
    form({name: 'passkey-target', title: 'Target a group', action: 'target', submit: 'Save target', check, what: 'change targets',
      fields: [
        {name: 'id', label: 'Group', type: 'select', options: targetOptions, value: ''},
        {name: 'allowedPasskeyProfiles', label: 'Passkey profiles its members may use', type: 'select', multiple: true,
          options: profiles.map((p) => [p.id, p.name]), value: [],
          help: enabled ? 'A member may register what any of their targets\' profiles accepts.' : 'Profiles are not enabled: the legacy settings apply.'},
        {name: 'isRegistrationRequired', label: 'Registration required', type: 'checkbox'},
      ],
      send: (v) => {
        const t = {id: v.id, targetType: 'group', isRegistrationRequired: v.isRegistrationRequired};
        if (enabled) t.allowedPasskeyProfiles = v.allowedPasskeyProfiles;
        const list = include.some((x) => x.id === v.id) ? include.map((x) => (x.id === v.id ? t : x)) : include.concat([t]);
        return save({includeTargets: list});
      },
      after: reload('Target saved.')}),
    table('Excluded targets', ['Target', 'Type', ''], exclude.map((t) => el('tr', {'data-excluded': nameOf(t.id)},
      el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType),
      el('td', {class: 'actions'}, action({action: 'remove-exclusion', label: 'Remove', check,
        send: () => save({excludeTargets: exclude.filter((x) => x.id !== t.id)}),
        after: reload(nameOf(t.id) + ' is no longer excluded.')})))), {'data-targets': 'exclude'}),
    form({name: 'passkey-exclude', title: 'Exclude a group', action: 'exclude', submit: 'Exclude', check, what: 'change exclusions',
      fields: [field({name: 'id', label: 'Group', type: 'select', options: groups.map((g) => [g.id, g.displayName])})],
      send: (v) => save({excludeTargets: exclude.filter((x) => x.id !== v.id).concat([{id: v.id, targetType: 'group'}])}),
      after: reload('Exclusion saved.')}));
}
