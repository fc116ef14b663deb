// Conditional Access: the policies (state, conditions, grant) and the
// editor (?edit=<id> or ?edit=new) with every condition the API has.
// Lockout protection is the server's: a save it refuses with 409
// (emergencyAccountNotExcluded, wouldLockOutCaller) saves nothing and the
// editor shows the findings; only an explicit "I understand" tick sends
// the second save with ?force=true.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {table, directoryNames, errorLine, show, readOnly, field} from './form.js';
import {checklist, checked, may, param} from './choices.js';

const caPath = '/identity/conditionalAccess/policies';
const caWriters = ['Conditional Access Administrator', 'Security Administrator'];
const lockoutCodes = ['emergencyAccountNotExcluded', 'wouldLockOutCaller'];

const states = [['disabled', 'Off'], ['enabledForReportingButNotEnforced', 'Report-only'], ['enabled', 'On']];
const appKeywords = [['All', 'All resources'], ['Office365', 'Office 365'], ['None', 'None']];
const clientApps = [['all', 'All client apps'], ['browser', 'Browser'], ['mobileAppsAndDesktopClients', 'Mobile apps and desktop clients'],
  ['exchangeActiveSync', 'Exchange ActiveSync'], ['other', 'Other clients']];
const platforms = [['all', 'Any device'], ['android', 'Android'], ['iOS', 'iOS'], ['windows', 'Windows'], ['macOS', 'macOS'], ['linux', 'Linux'], ['windowsPhone', 'Windows Phone']];
const risks = [['high', 'High'], ['medium', 'Medium'], ['low', 'Low'], ['none', 'No risk']];
const controls = [['block', 'Block access'], ['mfa', 'Require multifactor authentication'], ['compliantDevice', 'Require a compliant device'],
  ['domainJoinedDevice', 'Require a hybrid joined device'], ['passwordChange', 'Require password change']];
const registerSecurityInfo = 'urn:user:registersecurityinfo';

function grantSummary(g) {
  if (!g) return '—';
  const parts = (g.builtInControls || []).map((x) => (controls.find(([v]) => v === x) || [x, x])[1]);
  if (g.authenticationStrength) parts.push('Authentication strength: ' + (g.authenticationStrength.displayName || g.authenticationStrength.id));
  return parts.join(' ' + (g.operator || 'OR') + ' ') || '—';
}

function conditionsSummary(c, list) {
  const u = c.users || {};
  const inc = [].concat(u.includeUsers || [], u.includeGroups || [], u.includeRoles || []);
  const exc = [].concat(u.excludeUsers || [], u.excludeGroups || [], u.excludeRoles || []);
  const a = c.applications || {};
  const apps = (ids) => (ids && ids.length ? ids.map((id) => ({All: 'All resources', None: 'None', Office365: 'Office 365'}[id] || id)).join(', ') : '—');
  const parts = ['Users: ' + list(inc) + (exc.length ? '; excluding ' + list(exc) : ''),
    (a.includeUserActions || []).length ? 'User action: register security information'
      : 'Apps: ' + apps(a.includeApplications) + ((a.excludeApplications || []).length ? '; excluding ' + apps(a.excludeApplications) : '')];
  if ((c.clientAppTypes || []).length && !(c.clientAppTypes.length === 1 && c.clientAppTypes[0] === 'all')) parts.push('Client apps: ' + c.clientAppTypes.join(', '));
  if (c.platforms) parts.push('Platforms: ' + list(c.platforms.includePlatforms));
  if (c.locations) parts.push('Locations: ' + list(c.locations.includeLocations) + ((c.locations.excludeLocations || []).length ? '; excluding ' + list(c.locations.excludeLocations) : ''));
  if ((c.userRiskLevels || []).length) parts.push('User risk: ' + c.userRiskLevels.join(', '));
  if ((c.signInRiskLevels || []).length) parts.push('Sign-in risk: ' + c.signInRiskLevels.join(', '));
  return parts.map((p) => el('div', {}, p));
}

// catalog reads what the editor offers to choose from; a list this token
// may not read stays empty (its ids still show, as "unknown").
async function catalog(ctx) {
  const read = async (p) => { const r = await ctx.graphAll(p); return r.ok ? r.data.value || [] : []; };
  const [users, groups, roles, sps, locations, strengths, contexts] = await Promise.all([
    read('/users?$top=999'), read('/groups?$top=999'), read('/roleManagement/directory/roleDefinitions'), read('/servicePrincipals?$top=999'),
    read('/identity/conditionalAccess/namedLocations'), read('/identity/conditionalAccess/authenticationStrength/policies'),
    read('/identity/conditionalAccess/authenticationContextClassReferences')]);
  const apps = sps.map((s) => [s.appId, s.displayName || s.appId]);
  if (!apps.some(([id]) => id === '00000003-0000-0000-c000-000000000000')) apps.push(['00000003-0000-0000-c000-000000000000', 'Microsoft Graph (admin API)']);
  return {
    users: users.map((u) => [u.id, u.userPrincipalName]),
    groups: groups.map((g) => [g.id, g.displayName]),
    roles: roles.map((r) => [r.templateId || r.id, r.displayName]),
    apps, locations: locations.map((l) => [l.id, l.displayName]),
    strengths: strengths.map((s) => [s.id, s.displayName]),
    contexts: contexts.filter((c) => c.isAvailable !== false).map((c) => [c.id, c.id + ': ' + (c.displayName || '')]),
  };
}

async function list(ctx, check) {
  ctx.heading('Conditional Access policies');
  const res = await ctx.graph('GET', caPath);
  if (!res.ok) return ctx.failWith(res);
  const {list: names} = await directoryNames(ctx);
  const ps = res.data.value || [];
  const saved = param('saved');
  if (saved) ctx.say('Saved policy ' + saved + '.');
  ctx.view.append(check.ok
    ? el('p', {}, el('a', {href: '/admin/conditional-access?edit=new', class: 'button primary', 'data-action': 'new'}, 'New policy'))
    : readOnly(check, 'create or change Conditional Access policies'));
  if (!ps.length) { ctx.view.append(el('p', {}, 'No Conditional Access policies.')); return; }
  ctx.view.append(table('Policies (' + ps.length + ')', ['Policy', 'State', 'Conditions', 'Grant', ''],
    ps.map((p) => el('tr', {'data-policy': p.displayName},
      el('th', {scope: 'row'}, el('a', {href: '/admin/conditional-access?edit=' + p.id, 'data-action': 'edit'}, p.displayName)),
      el('td', {}, badge(p.state)),
      el('td', {class: 'small'}, conditionsSummary(p.conditions || {}, names)), el('td', {}, grantSummary(p.grantControls)),
      el('td', {class: 'actions'}, el('a', {href: '/admin/conditional-access-impact?id=' + p.id, 'data-action': 'impact'}, 'Impact report'))))));
}

// lockoutBox shows the findings of a refused save and the explicit
// confirmation that alone makes the next save force it.
function lockoutBox(res) {
  const e = (res.data && res.data.error) || {};
  const findings = (e.details && e.details.length ? e.details : [e]).map((d) => errorLine({status: res.status, data: {error: d}}));
  return el('div', {class: 'lockout', 'data-lockout': ''},
    el('h3', {}, 'Lockout protection: this save was refused and nothing was saved'),
    findings,
    field({name: 'force', type: 'checkbox', label: 'I understand the risk: save anyway with ?force=true (raises a high-severity security alert)'}),
    el('p', {class: 'help'}, 'Without this box ticked, saving again is refused the same way.'));
}

async function editor(ctx, check) {
  const id = param('edit');
  const isNew = id === 'new';
  let p = {displayName: '', state: 'enabledForReportingButNotEnforced', conditions: {users: {includeUsers: []}, applications: {includeApplications: ['All']}, clientAppTypes: ['all']},
    grantControls: {operator: 'OR', builtInControls: []}, sessionControls: null};
  if (!isNew) {
    const res = await ctx.graph('GET', caPath + '/' + encodeURIComponent(id));
    if (!res.ok) return ctx.failWith(res);
    p = res.data;
  }
  ctx.heading(isNew ? 'New Conditional Access policy' : 'Edit policy: ' + p.displayName);
  const cat = await catalog(ctx);
  const c = p.conditions || {};
  const u = c.users || {};
  const a = c.applications || {};
  const g = p.grantControls || {};
  const s = p.sessionControls || {};
  const sif = s.signInFrequency || {};
  const pb = s.persistentBrowser || {};
  const userOptions = [['All', 'All users'], ['None', 'None'], ['GuestsOrExternalUsers', 'Guests or external users']].concat(cat.users);
  const locOptions = [['All', 'Any location'], ['AllTrusted', 'All trusted locations']].concat(cat.locations);
  const section = (title, ...kids) => el('section', {class: 'ca-section'}, el('h3', {}, title), kids);

  const result = el('div', {'data-result': '', role: 'status', 'aria-live': 'polite'});
  const button = el('button', {type: 'submit', class: 'primary', 'data-action': 'save'}, isNew ? 'Create policy' : 'Save');
  const f = el('form', {'data-form': 'ca-policy', class: 'admin-form', novalidate: true},
    field({name: 'displayName', label: 'Name', value: p.displayName, required: true}),
    el('fieldset', {class: 'checklist', 'data-list': 'state'}, el('legend', {}, 'Enable policy'),
      states.map(([v, label]) => el('span', {class: 'check'}, el('input', {type: 'radio', name: 'state', value: v, id: 'state-' + v, checked: p.state === v}),
        el('label', {for: 'state-' + v}, label)))),
    section('Users',
      checklist('includeUsers', 'Include users', userOptions, u.includeUsers),
      checklist('includeGroups', 'Include groups', cat.groups, u.includeGroups),
      checklist('includeRoles', 'Include directory roles', cat.roles, u.includeRoles),
      checklist('excludeUsers', 'Exclude users', userOptions.filter(([v]) => v !== 'All' && v !== 'None'), u.excludeUsers),
      checklist('excludeGroups', 'Exclude groups', cat.groups, u.excludeGroups),
      checklist('excludeRoles', 'Exclude directory roles', cat.roles, u.excludeRoles)),
    section('Target resources',
      checklist('includeApplications', 'Include resources (apps)', appKeywords.concat(cat.apps), a.includeApplications),
      checklist('excludeApplications', 'Exclude resources', cat.apps, a.excludeApplications),
      checklist('includeUserActions', 'Or a user action instead of apps', [[registerSecurityInfo, 'Register security information']], a.includeUserActions),
      checklist('includeAuthenticationContextClassReferences', 'Authentication contexts', cat.contexts, a.includeAuthenticationContextClassReferences)),
    section('Conditions',
      checklist('clientAppTypes', 'Client apps', clientApps, c.clientAppTypes),
      checklist('includePlatforms', 'Device platforms: include (none ticked: any, not configured)', platforms, c.platforms && c.platforms.includePlatforms),
      checklist('excludePlatforms', 'Device platforms: exclude', platforms.slice(1), c.platforms && c.platforms.excludePlatforms),
      checklist('includeLocations', 'Locations: include (none ticked: not configured)', locOptions, c.locations && c.locations.includeLocations),
      checklist('excludeLocations', 'Locations: exclude', locOptions.slice(1), c.locations && c.locations.excludeLocations),
      checklist('userRiskLevels', 'User risk', risks, c.userRiskLevels),
      checklist('signInRiskLevels', 'Sign-in risk', risks, c.signInRiskLevels)),
    section('Grant',
      field({name: 'operator', label: 'For multiple controls', type: 'select', value: g.operator || 'OR', options: [['OR', 'Require one of the selected controls'], ['AND', 'Require all the selected controls']]}),
      checklist('builtInControls', 'Controls', controls, g.builtInControls),
      field({name: 'authenticationStrength', label: 'Require authentication strength', type: 'select', value: (g.authenticationStrength && g.authenticationStrength.id) || '',
        options: [['', '— none —']].concat(cat.strengths)})),
    section('Session',
      field({name: 'signInFrequencyEnabled', type: 'checkbox', label: 'Sign-in frequency', value: sif.isEnabled}),
      field({name: 'signInFrequencyInterval', label: 'Frequency', type: 'select', value: sif.frequencyInterval || 'timeBased', options: [['timeBased', 'Periodic reauthentication'], ['everyTime', 'Every time']]}),
      field({name: 'signInFrequencyValue', label: 'Every', type: 'number', min: 1, value: sif.value || ''}),
      field({name: 'signInFrequencyType', label: 'Unit', type: 'select', value: sif.type || 'hours', options: [['hours', 'Hours'], ['days', 'Days']]}),
      field({name: 'persistentBrowserEnabled', type: 'checkbox', label: 'Persistent browser session', value: pb.isEnabled}),
      field({name: 'persistentBrowserMode', label: 'Persistent browser', type: 'select', value: pb.mode || 'never', options: [['never', 'Never persistent'], ['always', 'Always persistent']]})),
    button, result);

  if (!check.ok) {
    for (const i of f.querySelectorAll('input, select, textarea, button')) i.disabled = true;
    f.prepend(readOnly(check, 'change Conditional Access policies'));
    ctx.view.append(f);
    return;
  }

  const val = (name) => { const i = f.querySelector('[name="' + name + '"]'); return i ? (i.type === 'checkbox' ? i.checked : i.value.trim()) : ''; };
  function body() {
    const incPlat = checked(f, 'includePlatforms');
    const incLoc = checked(f, 'includeLocations');
    const strength = val('authenticationStrength');
    const built = checked(f, 'builtInControls');
    const session = Object.assign({}, p.sessionControls || {});
    session.signInFrequency = val('signInFrequencyEnabled') ? (val('signInFrequencyInterval') === 'everyTime'
      ? {isEnabled: true, frequencyInterval: 'everyTime', authenticationType: 'primaryAndSecondaryAuthentication'}
      : {isEnabled: true, frequencyInterval: 'timeBased', type: val('signInFrequencyType'), value: Number(val('signInFrequencyValue')) || null, authenticationType: 'primaryAndSecondaryAuthentication'}) : null;
    session.persistentBrowser = val('persistentBrowserEnabled') ? {isEnabled: true, mode: val('persistentBrowserMode')} : null;
    const anySession = Object.values(session).some((v) => v !== null && v !== undefined);
    const checkedState = f.querySelector('input[name=state]:checked');
    return {
      displayName: val('displayName'),
      state: checkedState ? checkedState.value : '',
      conditions: {
        users: {includeUsers: checked(f, 'includeUsers'), excludeUsers: checked(f, 'excludeUsers'), includeGroups: checked(f, 'includeGroups'),
          excludeGroups: checked(f, 'excludeGroups'), includeRoles: checked(f, 'includeRoles'), excludeRoles: checked(f, 'excludeRoles')},
        applications: {includeApplications: checked(f, 'includeApplications'), excludeApplications: checked(f, 'excludeApplications'),
          includeUserActions: checked(f, 'includeUserActions'), includeAuthenticationContextClassReferences: checked(f, 'includeAuthenticationContextClassReferences')},
        clientAppTypes: checked(f, 'clientAppTypes'),
        platforms: incPlat.length ? {includePlatforms: incPlat, excludePlatforms: checked(f, 'excludePlatforms')} : null,
        locations: incLoc.length ? {includeLocations: incLoc, excludeLocations: checked(f, 'excludeLocations')} : null,
        userRiskLevels: checked(f, 'userRiskLevels'),
        signInRiskLevels: checked(f, 'signInRiskLevels'),
      },
      grantControls: built.length || strength ? {operator: val('operator'), builtInControls: built, authenticationStrength: strength ? {id: strength} : null} : null,
      sessionControls: anySession ? session : null,
    };
  }

  // A tick confirms the findings that were shown for the policy as it was
  // then: any later edit withdraws it, so a different lockout is never
  // forced without its own findings being shown first.
  const saveLabel = button.textContent;
  const withdraw = () => {
    const box = f.querySelector('[data-lockout]');
    if (box) box.remove();
    button.textContent = saveLabel;
  };
  for (const type of ['input', 'change']) {
    f.addEventListener(type, (ev) => {
      if (!(ev.target && ev.target.name === 'force')) withdraw();
    });
  }

  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = f.querySelector('[data-lockout]');
    const force = !!(box && box.querySelector('input[name=force]').checked);
    button.disabled = true;
    result.textContent = '';
    try {
      const q = force ? '?force=true' : '';
      const res = isNew ? await ctx.graph('POST', caPath + q, body()) : await ctx.graph('PATCH', caPath + '/' + encodeURIComponent(id) + q, body());
      if (res.status === 409 && lockoutCodes.includes((res.data && res.data.error && res.data.error.code) || '')) {
        if (box) box.remove();
        f.insertBefore(lockoutBox(res), button);
        button.textContent = 'Save anyway';
        result.append(errorLine(res));
        return;
      }
      if (!res.ok) withdraw(); // another refusal: the tick was for findings no longer in force
      if (!show(result, res, 'Saved.')) return;
      const saved = (res.data && res.data.displayName) || val('displayName');
      location.assign('/admin/conditional-access?saved=' + encodeURIComponent(saved));
    } finally {
      button.disabled = false;
    }
  });
  ctx.view.append(el('p', {}, el('a', {href: '/admin/conditional-access'}, '← All policies')), f);
}

export default async function render(ctx) {
  const check = may(ctx, 'POST ' + caPath, caWriters);
  if (param('edit')) return editor(ctx, check);
  return list(ctx, check);
}
