// The Temporary Access Pass method policy (state, lifetimes, length,
// one-time use, targets) and issuing a pass for a user by name.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {dl, table, form, directoryNames} from './form.js';
import {tapForm} from './user.js';

const path = '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass';

export default async function render(ctx) {
  ctx.heading('Temporary Access Pass');
  const res = await ctx.graph('GET', path);
  if (!res.ok) return ctx.failWith(res);
  const {nameOf} = await directoryNames(ctx);
  const groups = await ctx.graphAll('/groups?$top=999');
  const c = res.data;
  const targetOptions = [['all_users', 'All users']].concat((groups.ok ? groups.data.value || [] : []).map((g) => [g.id, g.displayName]));
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };
  ctx.view.append(
    dl([['State', badge(c.state)], ['Minimum lifetime', c.minimumLifetimeInMinutes + ' min'], ['Maximum lifetime', c.maximumLifetimeInMinutes + ' min'],
      ['Default lifetime', c.defaultLifetimeInMinutes + ' min'], ['Length', String(c.defaultLength)], ['One-time use', c.isUsableOnce ? 'Yes' : 'No']]),
    table('Included targets', ['Target', 'Type'], (c.includeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))),
    table('Excluded targets', ['Target', 'Type'], (c.excludeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))),
    form({name: 'tap-policy', title: 'Policy', action: 'save', submit: 'Save policy', check: ctx.canWrite('PATCH ' + path), what: 'change the TAP policy',
      fields: [
        {name: 'state', label: 'State', type: 'select', value: c.state, options: [['enabled', 'On'], ['disabled', 'Off']]},
        {name: 'minimumLifetimeInMinutes', label: 'Minimum lifetime (minutes)', type: 'number', value: c.minimumLifetimeInMinutes, min: 10, max: 43200},
        {name: 'maximumLifetimeInMinutes', label: 'Maximum lifetime (minutes)', type: 'number', value: c.maximumLifetimeInMinutes, min: 10, max: 43200},
        {name: 'defaultLifetimeInMinutes', label: 'Default lifetime (minutes)', type: 'number', value: c.defaultLifetimeInMinutes, min: 10, max: 43200},
        {name: 'defaultLength', label: 'Length (characters)', type: 'number', value: c.defaultLength, min: 8, max: 48},
        {name: 'isUsableOnce', label: 'One-time use', type: 'checkbox', value: c.isUsableOnce},
        {name: 'includeTargets', label: 'Included (users who may sign in with a pass)', type: 'select', multiple: true,
          value: (c.includeTargets || []).map((t) => t.id), options: targetOptions},
        {name: 'excludeTargets', label: 'Excluded', type: 'select', multiple: true,
          value: (c.excludeTargets || []).map((t) => t.id), options: targetOptions.slice(1)},
      ],
      send: (v) => ctx.graph('PATCH', path, Object.assign({}, v, {
        includeTargets: v.includeTargets.map((id) => ({id, targetType: 'group', isRegistrationRequired: false})),
        excludeTargets: v.excludeTargets.map((id) => ({id, targetType: 'group'}))})),
      after: reload('TAP policy saved.')}),
    tapForm(ctx, async (v) => {
      const u = await ctx.graph('GET', '/users/' + encodeURIComponent(v.userPrincipalName));
      return u.ok ? u.data.id : u;
    }, [{name: 'userPrincipalName', label: 'For user (user principal name)', required: true}]));
}
