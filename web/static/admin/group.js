// One group (/admin/group?id=…): its members, add one by user principal
// name, remove one.

import {el} from '../dom.js';
import {table, form, action, dl} from './form.js';

export default async function render(ctx) {
  const id = new URLSearchParams(location.search).get('id') || '';
  ctx.heading('Group');
  if (!id) { ctx.fail('missingId', 'Open a group from the Groups list.'); return; }
  const g = await ctx.graph('GET', '/groups/' + encodeURIComponent(id));
  if (!g.ok) return ctx.failWith(g);
  const m = await ctx.graphAll('/groups/' + encodeURIComponent(id) + '/members?$top=999');
  if (!m.ok) return ctx.failWith(m);
  const users = await ctx.graphAll('/users?$top=999');
  const members = m.data.value || [];
  const check = ctx.canWrite('POST /groups/{id}/members/$ref');
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };
  ctx.heading('Group: ' + g.data.displayName);
  const listId = 'upns-' + id;
  const memberIds = new Set(members.map((u) => u.id));
  ctx.view.append(
    el('p', {}, el('a', {href: '/admin/groups'}, '← All groups')),
    dl([['Id', g.data.id], ['Description', g.data.description || '—'], ['Members', String(members.length)]]),
    table('Members (' + members.length + ')', ['User principal name', 'Display name', ''],
      members.map((u) => el('tr', {'data-member': u.userPrincipalName},
        el('th', {scope: 'row'}, el('a', {href: '/admin/user?id=' + encodeURIComponent(u.id)}, u.userPrincipalName)),
        el('td', {}, u.displayName),
        el('td', {class: 'actions'}, action({action: 'remove-member', label: 'Remove', danger: true,
          check: ctx.canWrite('DELETE /groups/{id}/members/{memberId}/$ref'),
          send: () => ctx.graph('DELETE', '/groups/' + encodeURIComponent(id) + '/members/' + encodeURIComponent(u.id) + '/$ref'),
          after: reload(u.userPrincipalName + ' removed from ' + g.data.displayName + '.')}))))),
    el('datalist', {id: listId}, (users.ok ? users.data.value || [] : []).filter((u) => !memberIds.has(u.id))
      .map((u) => el('option', {value: u.userPrincipalName}, u.displayName))),
    form({name: 'add-member', title: 'Add a member', action: 'add', submit: 'Add member', check, what: 'change members',
      fields: [{name: 'userPrincipalName', label: 'User principal name', required: true}],
      send: async (v, f) => {
        // The member reference is by id: look the name up first (a
        // refusal there is shown like any other).
        const u = await ctx.graph('GET', '/users/' + encodeURIComponent(v.userPrincipalName));
        if (!u.ok) return u;
        f.dataset.added = u.data.userPrincipalName;
        return ctx.graph('POST', '/groups/' + encodeURIComponent(id) + '/members/$ref',
          {'@odata.id': location.origin + '/v1.0/directoryObjects/' + u.data.id});
      },
      after: (r) => reload('Added to ' + g.data.displayName + '.')()}));
  const input = ctx.view.querySelector('[data-form="add-member"] input[name="userPrincipalName"]');
  if (input) input.setAttribute('list', listId);
}
