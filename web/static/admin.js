// The admin views: an admin token (from the session or pasted), then the
// FIDO2 and TAP policies, Conditional Access and the sign-in logs.

import {$, el, say, clearAlert, fail, failWith} from './dom.js';
import {call, codeOf, adminTokenKey} from './api.js';
import {b64uToBuf, authenticatorInfo, authenticatorIcon} from './webauthn.js';
import {fmtDate, methodName, resultName, badge} from './format.js';

function tokenClaims(tok) {
  try {
    return JSON.parse(new TextDecoder().decode(b64uToBuf(tok.split('.')[1])));
  } catch (_) { return null; }
}

export default async function adminPage() {
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
            ? [p.keyRestrictions.enforcementType === 'allow' ? 'Allow only: ' : 'Block: ', modelList(p.keyRestrictions.aaGuids || [])]
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
