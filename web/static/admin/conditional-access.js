// Conditional Access policies: state, conditions and grant, read-only.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {table, directoryNames} from './form.js';

function conditionsSummary(c, list) {
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

export default async function render(ctx) {
  ctx.heading('Conditional Access policies');
  const res = await ctx.graph('GET', '/identity/conditionalAccess/policies');
  if (!res.ok) return ctx.failWith(res);
  const {list} = await directoryNames(ctx);
  const ps = res.data.value || [];
  if (!ps.length) { ctx.view.append(el('p', {}, 'No Conditional Access policies.')); return; }
  ctx.view.append(table('Policies (' + ps.length + ')', ['Policy', 'State', 'Conditions', 'Grant'],
    ps.map((p) => el('tr', {}, el('th', {scope: 'row'}, p.displayName), el('td', {}, badge(p.state)),
      el('td', {class: 'small'}, conditionsSummary(p.conditions || {}, list)), el('td', {}, grantSummary(p.grantControls))))));
}
