// The rollout view per wave group (?group=<id>&days=N): members, how many
// hold a passkey the group's profile accepts, and their sign-ins the
// wave's Conditional Access policies failed or would fail, from the lab
// extension GET /groups/{id}/passkeyRollout.

import {el} from '../dom.js';
import {badge, resultName} from '../format.js';
import {dl, table} from './form.js';
import {param} from './choices.js';

// A wave group sorts first: the lab's GRP-Pilot-… and GRP-Wave<n>-… names.
const waveRank = (name) => (/^GRP-Pilot/i.test(name) ? 0 : /^GRP-Wave/i.test(name) ? 1 : 2);

function meter(n, of, label) {
  const pct = of ? Math.round((100 * n) / of) : 0;
  const m = el('meter', {min: 0, max: of || 1, value: n, 'aria-label': label});
  return el('span', {class: 'meter'}, m, ' ' + n + ' of ' + of + ' (' + pct + '%)');
}

export default async function render(ctx) {
  ctx.heading('Rollout by wave');
  const groups = await ctx.graphAll('/groups?$top=999');
  if (!groups.ok) return ctx.failWith(groups);
  const gs = (groups.data.value || []).slice().sort((a, b) => waveRank(a.displayName) - waveRank(b.displayName) || a.displayName.localeCompare(b.displayName));
  const chosen = param('group') || (gs.find((g) => waveRank(g.displayName) < 2) || gs[0] || {}).id;
  const days = Number(param('days')) || 7;
  ctx.view.append(el('nav', {class: 'waves', 'aria-label': 'Groups'}, el('ul', {}, gs.map((g) => el('li', {},
    el('a', {href: '/admin/rollout?group=' + g.id + '&days=' + days, 'data-group': g.displayName, 'aria-current': g.id === chosen ? 'page' : undefined}, g.displayName))))));
  if (!chosen) { ctx.view.append(el('p', {}, 'No groups yet.')); return; }
  const start = new Date(Date.now() - days * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
  const res = await ctx.graph('GET', '/groups/' + encodeURIComponent(chosen) + '/passkeyRollout?startDateTime=' + start);
  if (!res.ok) return ctx.failWith(res);
  const r = res.data;
  ctx.heading('Rollout: ' + r.displayName);
  const here = '/admin/rollout?group=' + encodeURIComponent(chosen) + '&days=';
  ctx.view.append(
    el('p', {class: 'windows'}, 'Sign-ins of the last: ', [1, 7, 30].flatMap((d) => [d === days ? el('strong', {}, d + (d === 1 ? ' day' : ' days'))
      : el('a', {href: here + d, 'data-action': 'window-' + d}, d + (d === 1 ? ' day' : ' days')), ' '])),
    dl([['Members', String(r.members)],
      ['With an allowed passkey', meter(r.membersWithAllowedPasskey, r.members, 'members with an allowed passkey')],
      ['Passkey profiles for this group', !r.passkeyPolicyConfigured ? 'the passkey method was never configured: any passkey is accepted'
        : r.passkeyProfiles.length ? r.passkeyProfiles.map((p) => p.name).join(', ')
        : 'none: ' + (r.passkeyNotApplicableReason === 'methodDisabled' ? 'the passkey method is off' : 'the passkey method does not target this group')],
      ['Sign-ins (last ' + days + ' days) under the wave’s policies', String(r.signIns)],
      ['Of those, failed or would fail', el('span', {'data-would-fail': ''}, String(r.signInsThatWouldFail))],
      ['Ready to enforce', r.readyToEnforce ? badge('success') : el('span', {}, badge('failure'), ' not yet')]]),
    table('The wave’s Conditional Access policies (users include this group)', ['Policy', 'State', 'Results'],
      r.policies.map((p) => el('tr', {}, el('th', {scope: 'row'}, el('a', {href: '/admin/conditional-access-impact?id=' + p.id}, p.displayName)),
        el('td', {}, badge(p.state)),
        el('td', {class: 'small'}, Object.entries(p.results).filter(([, n]) => n).map(([k, n]) => resultName(k) + ': ' + n).join(' · ') || 'no sign-ins')))),
    table('Members (' + r.members + ')', ['User', 'Passkeys', 'Allowed by the profile', 'Sign-ins', 'Failed or would fail'],
      r.memberStatus.map((m) => el('tr', {'data-user': m.userPrincipalName}, el('th', {scope: 'row'}, m.userPrincipalName),
        el('td', {}, String(m.passkeys)), el('td', {}, m.allowedPasskeys ? String(m.allowedPasskeys) : el('span', {class: 'badge bad'}, 'none')),
        el('td', {}, String(m.signIns)), el('td', {}, String(m.signInsThatWouldFail))))));
}
