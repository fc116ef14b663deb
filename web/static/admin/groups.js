// Groups: security groups (the wave groups of a rollout), create one; a
// group's name opens its members (/admin/group?id=…).

import {el} from '../dom.js';
import {table, form} from './form.js';

// mailNickname is required by Graph; the portal derives it from the name.
const nickname = (name) => name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64) || 'group';

export default async function render(ctx) {
  ctx.heading('Groups');
  const res = await ctx.graphAll('/groups?$top=999');
  if (!res.ok) return ctx.failWith(res);
  const groups = res.data.value || [];
  if (res.truncated) ctx.view.append(el('p', {class: 'note'}, 'Showing the first ' + groups.length + ' groups.'));
  ctx.view.append(
    table('Groups (' + groups.length + ')', ['Name', 'Description', 'Role-assignable'],
      groups.map((g) => el('tr', {'data-group': g.displayName},
        el('th', {scope: 'row'}, el('a', {href: '/admin/group?id=' + encodeURIComponent(g.id)}, g.displayName)),
        el('td', {}, g.description || '—'),
        el('td', {}, g.isAssignableToRole ? 'Yes' : 'No')))),
    form({name: 'create-group', title: 'New security group', action: 'create', submit: 'Create group',
      check: ctx.canWrite('POST /groups'), what: 'create groups',
      fields: [
        {name: 'displayName', label: 'Name', required: true, help: 'e.g. GRP-Pilot-Passkey-Admins'},
        {name: 'description', label: 'Description (optional)'},
      ],
      send: (v) => {
        const body = {displayName: v.displayName, mailEnabled: false, securityEnabled: true, mailNickname: nickname(v.displayName), groupTypes: []};
        if (v.description) body.description = v.description;
        return ctx.graph('POST', '/groups', body);
      },
      done: (r) => 'Created ' + r.data.displayName + '.',
      after: async (r) => { await ctx.rerender(); ctx.say('Created ' + r.data.displayName + ': open it to add members.'); }}));
}
