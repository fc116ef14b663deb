// The registration campaign (Graph's registrationEnforcement.
// authenticationMethodsRegistrationCampaign in the root
// authenticationMethodsPolicy): state, snooze days, enforcement after
// the three snoozes, and who is targeted or excluded.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {dl, form, field} from './form.js';
import {checklist, checked, may} from './choices.js';

const policyPath = '/policies/authenticationMethodsPolicy';
const writers = ['Authentication Policy Administrator'];
const method = 'microsoftAuthenticator';

export default async function render(ctx) {
  ctx.heading('Registration campaign');
  const [res, users, groups] = await Promise.all([ctx.graph('GET', policyPath), ctx.graphAll('/users?$top=999'), ctx.graphAll('/groups?$top=999')]);
  if (!res.ok) return ctx.failWith(res);
  const c = ((res.data.registrationEnforcement || {}).authenticationMethodsRegistrationCampaign) || {};
  const userOpts = users.ok ? users.data.value.map((u) => [u.id, u.userPrincipalName]) : [];
  const groupOpts = groups.ok ? groups.data.value.map((g) => [g.id, g.displayName]) : [];
  const inc = c.includeTargets || [];
  const exc = c.excludeTargets || [];
  const ids = (ts, type) => ts.filter((t) => t.targetType === type).map((t) => t.id);
  ctx.view.append(
    el('p', {}, 'After a successful sign-in, a targeted user without Microsoft Authenticator is asked to set it up, and may skip it ' +
      '(snooze) up to three times when enforcement is on. Entra\'s campaign targets Microsoft Authenticator; it is the only method the lab supports.'),
    dl([['State', badge(c.state === 'enabled' ? 'enabled' : c.state === 'disabled' ? 'disabled' : 'Microsoft managed (nudges nobody in the lab)')],
      ['Snooze', (c.snoozeDurationInDays ?? 1) + ' day(s)'], ['Enforce after the allowed snoozes', c.enforceRegistrationAfterAllowedSnoozes ? 'Yes' : 'No']]),
    form({name: 'registration-campaign', title: 'Campaign settings', action: 'save', submit: 'Save campaign',
      check: may(ctx, 'PATCH ' + policyPath, writers), what: 'change the registration campaign',
      fields: [
        field({name: 'state', label: 'State', type: 'select', value: c.state || 'default', options: [['default', 'Microsoft managed'], ['enabled', 'Enabled'], ['disabled', 'Disabled']]}),
        field({name: 'snoozeDurationInDays', label: 'Days a user may snooze', type: 'number', min: 0, max: 14, value: c.snoozeDurationInDays ?? 1}),
        field({name: 'enforceRegistrationAfterAllowedSnoozes', label: 'Limited number of snoozes (three, then registration is required)', type: 'checkbox', value: c.enforceRegistrationAfterAllowedSnoozes}),
        field({name: 'allUsers', label: 'Include all users', type: 'checkbox', value: inc.some((t) => t.id === 'all_users')}),
        checklist('includeGroups', 'Include groups', groupOpts, ids(inc, 'group').filter((id) => id !== 'all_users')),
        checklist('includeUsers', 'Include users', userOpts, ids(inc, 'user')),
        checklist('excludeGroups', 'Exclude groups', groupOpts, ids(exc, 'group')),
        checklist('excludeUsers', 'Exclude users', userOpts, ids(exc, 'user')),
      ],
      send: (v, f) => {
        const target = (type) => (id) => ({id, targetType: type, targetedAuthenticationMethod: method});
        const includeTargets = (v.allUsers ? [{id: 'all_users', targetType: 'group', targetedAuthenticationMethod: method}] : [])
          .concat(checked(f, 'includeGroups').map(target('group')), checked(f, 'includeUsers').map(target('user')));
        const excludeTargets = checked(f, 'excludeGroups').map((id) => ({id, targetType: 'group'})).concat(checked(f, 'excludeUsers').map((id) => ({id, targetType: 'user'})));
        return ctx.graph('PATCH', policyPath, {registrationEnforcement: {authenticationMethodsRegistrationCampaign: {
          state: v.state, snoozeDurationInDays: v.snoozeDurationInDays, enforceRegistrationAfterAllowedSnoozes: v.enforceRegistrationAfterAllowedSnoozes,
          includeTargets, excludeTargets}}});
      },
      done: 'Campaign saved.'}));
}
