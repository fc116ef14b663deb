// Users: the directory's users, create one, disable or enable, and flag
// or unflag an emergency-access (break-glass) account. A user's name opens
// their page (/admin/user?id=…): methods, TAP, sessions, groups.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {table, form, action} from './form.js';

export default async function render(ctx) {
  ctx.heading('Users');
  const res = await ctx.graphAll('/users?$top=999');
  if (!res.ok) return ctx.failWith(res);
  const users = res.data.value || [];
  const patch = ctx.canWrite('PATCH /users/{id}');
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };

  if (res.truncated) ctx.view.append(el('p', {class: 'note'}, 'Showing the first ' + users.length + ' users.'));
  ctx.view.append(
    table('Users (' + users.length + ')', ['User principal name', 'Display name', 'Account', 'Emergency access', ''],
      users.map((u) => el('tr', {'data-user': u.userPrincipalName},
        el('th', {scope: 'row'}, el('a', {href: '/admin/user?id=' + encodeURIComponent(u.id)}, u.userPrincipalName)),
        el('td', {}, u.displayName),
        el('td', {}, badge(u.accountEnabled ? 'enabled' : 'disabled')),
        el('td', {}, u.isEmergencyAccess ? 'Yes (break-glass)' : 'No'),
        el('td', {class: 'actions'},
          action({action: u.accountEnabled ? 'disable' : 'enable', label: u.accountEnabled ? 'Disable' : 'Enable', check: patch,
            danger: u.accountEnabled, confirmText: u.accountEnabled ? 'Disable ' + u.userPrincipalName + '? They can no longer sign in.' : '',
            send: () => ctx.graph('PATCH', '/users/' + u.id, {accountEnabled: !u.accountEnabled}),
            after: reload(u.userPrincipalName + (u.accountEnabled ? ' disabled.' : ' enabled.'))}),
          ' ',
          action({action: u.isEmergencyAccess ? 'unflag-emergency' : 'flag-emergency',
            label: u.isEmergencyAccess ? 'Unflag emergency access' : 'Flag emergency access', check: patch,
            send: () => ctx.graph('PATCH', '/users/' + u.id, {isEmergencyAccess: !u.isEmergencyAccess}),
            after: reload(u.userPrincipalName + (u.isEmergencyAccess ? ' is no longer an emergency-access account.' : ' is an emergency-access account: lockout protection keeps it out of Conditional Access blocks.'))}))))),
    el('p', {class: 'small'}, 'Emergency-access accounts are what lockout protection checks: a Conditional Access policy that would block them is refused unless forced.'),
    form({name: 'create-user', title: 'New user', action: 'create', submit: 'Create user', check: ctx.canWrite('POST /users'), what: 'create users',
      fields: [
        {name: 'userPrincipalName', label: 'User principal name', required: true, help: 'e.g. alice@lab.example'},
        {name: 'displayName', label: 'Display name', required: true},
        {name: 'password', label: 'Initial password (optional)', type: 'password', help: 'Leave empty for a passwordless user (give them a Temporary Access Pass).'},
        {name: 'isEmergencyAccess', label: 'Emergency-access (break-glass) account', type: 'checkbox'},
      ],
      send: (v) => {
        const body = {userPrincipalName: v.userPrincipalName, displayName: v.displayName, accountEnabled: true, isEmergencyAccess: v.isEmergencyAccess};
        if (v.password) body.passwordProfile = {password: v.password, forceChangePasswordNextSignIn: false};
        return ctx.graph('POST', '/users', body);
      },
      done: (r) => 'Created ' + r.data.userPrincipalName + '.',
      after: (r) => reload('Created ' + r.data.userPrincipalName + '.')()}));
}
