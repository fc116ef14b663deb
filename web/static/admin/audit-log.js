// The directory audit log (/auditLogs/directoryAudits): every admin change
// with who made it and each property's old and new value; filters by
// time, category, activity, initiator and target go to the server as
// $filter (and the lab's targetId), so what is shown is what it matched.

import {el} from '../dom.js';
import {fmtDate} from '../format.js';
import {field, errorLine} from './form.js';
import {param} from './choices.js';

const categories = ['', 'UserManagement', 'GroupManagement', 'RoleManagement', 'Policy', 'ApplicationManagement', 'IdentityProtection'];

const quote = (s) => "'" + String(s).replace(/'/g, "''") + "'";

// pretty shows a JSON value text as Graph gives it, unquoted when it is a
// plain string.
function pretty(v) {
  if (v === undefined || v === null || v === '') return '—';
  try {
    const x = JSON.parse(v);
    return typeof x === 'string' ? x : JSON.stringify(x, null, 1);
  } catch (_) { return v; }
}

export function filterOf(q) {
  const parts = [];
  if (q.since) parts.push('activityDateTime ge ' + new Date(Date.now() - Number(q.since) * 3600000).toISOString().replace(/\.\d+Z$/, 'Z'));
  if (q.category) parts.push('category eq ' + quote(q.category));
  if (q.activity) parts.push('startsWith(activityDisplayName, ' + quote(q.activity) + ')');
  if (q.initiator) parts.push('initiatedBy/user/userPrincipalName eq ' + quote(q.initiator));
  return parts.join(' and ');
}

export default async function render(ctx) {
  ctx.heading('Audit log');
  const q = {since: param('since'), category: param('category'), activity: param('activity'), initiator: param('initiator'), targetId: param('targetId')};
  const filters = el('form', {'data-form': 'audit-filter', class: 'filters', method: 'get', action: '/admin/audit-log'},
    field({name: 'since', label: 'Time', type: 'select', value: q.since, options: [['', 'Any time'], ['1', 'Last hour'], ['24', 'Last 24 hours'], ['168', 'Last 7 days']]}),
    field({name: 'category', label: 'Category', type: 'select', value: q.category, options: categories.map((c) => [c, c || 'All'])}),
    field({name: 'activity', label: 'Activity starts with', value: q.activity}),
    field({name: 'initiator', label: 'Initiated by (UPN)', value: q.initiator}),
    field({name: 'targetId', label: 'Target id', value: q.targetId}),
    el('button', {type: 'submit', 'data-action': 'filter'}, 'Apply filters'));
  ctx.view.append(filters);
  const params = new URLSearchParams({$top: '200'});
  const filter = filterOf(q);
  if (filter) params.set('$filter', filter);
  if (q.targetId) params.set('targetId', q.targetId);
  const res = await ctx.graph('GET', '/auditLogs/directoryAudits?' + params.toString());
  if (!res.ok) { ctx.view.append(el('div', {'data-result': ''}, errorLine(res))); return; }
  const list = res.data.value || [];
  if (!list.length) { ctx.view.append(el('p', {'data-result': ''}, 'No audit records match.')); return; }
  const body = el('tbody', {});
  for (const a of list) {
    const who = (a.initiatedBy && (a.initiatedBy.user || a.initiatedBy.app)) || {};
    const targets = a.targetResources || [];
    const changes = targets.flatMap((t) => (t.modifiedProperties || []).map((m) => el('tr', {'data-property': m.displayName},
      el('th', {scope: 'row'}, m.displayName), el('td', {'data-old': ''}, el('pre', {}, pretty(m.oldValue))), el('td', {'data-new': ''}, el('pre', {}, pretty(m.newValue))))));
    body.append(el('tr', {class: 'audit', 'data-activity': a.activityDisplayName},
      el('td', {}, fmtDate(a.activityDateTime)),
      el('th', {scope: 'row'}, a.activityDisplayName),
      el('td', {}, a.category),
      el('td', {}, who.userPrincipalName || who.displayName || who.id || '—', who.ipAddress ? el('div', {class: 'small'}, who.ipAddress) : null),
      el('td', {}, targets.map((t) => el('div', {}, t.displayName || t.userPrincipalName || t.id, el('span', {class: 'small'}, ' (' + (t.type || '') + ')')))),
      el('td', {class: 'small'}, a.result, el('div', {}, a.correlationId || ''))),
    el('tr', {class: 'audit-changes'}, el('td', {colspan: 6},
      changes.length ? el('table', {class: 'changes'}, el('thead', {}, el('tr', {}, ['Property', 'Old value', 'New value'].map((h) => el('th', {scope: 'col'}, h)))), el('tbody', {}, changes))
        : el('p', {class: 'small'}, 'No property changes recorded.'))));
  }
  ctx.view.append(el('table', {class: 'audits', 'data-result': ''}, el('caption', {}, list.length + ' most recent records' + (res.data['@odata.nextLink'] ? ' (more on the server)' : '')),
    el('thead', {}, el('tr', {}, ['Date', 'Activity', 'Category', 'Initiated by', 'Target', 'Result / correlation id'].map((h) => el('th', {scope: 'col'}, h)))), body));
}
