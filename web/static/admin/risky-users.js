// Risky users (Identity Protection): each at-risk user with level and
// state; dismiss the risk or confirm the account compromised.

import {el} from '../dom.js';
import {badge, fmtDate} from '../format.js';
import {table, action, form} from './form.js';

const levelBadge = (l) => el('span', {class: 'badge ' + (l === 'high' ? 'bad' : l === 'none' ? 'good' : 'neutral')}, l || '—');

export default async function render(ctx) {
  ctx.heading('Risky users');
  const res = await ctx.graphAll('/identityProtection/riskyUsers?$top=999');
  if (!res.ok) return ctx.failWith(res);
  const list = res.data.value || [];
  const reload = (msg) => async () => { await ctx.rerender(); ctx.say(msg); };
  const dismiss = ctx.canWrite('POST /identityProtection/riskyUsers/dismiss');
  const confirm = ctx.canWrite('POST /identityProtection/riskyUsers/confirmCompromised');
  ctx.view.append(
    el('p', {class: 'small'}, 'Dismissing sets the risk to none (a false positive); confirming compromised sets it to high, so user-risk Conditional Access policies apply.'),
    table('Risky users (' + list.length + ')', ['User', 'Risk level', 'Risk state', 'Detail', 'Updated', ''],
      list.map((u) => el('tr', {'data-risky': u.userPrincipalName},
        el('th', {scope: 'row'}, el('a', {href: '/admin/user?id=' + encodeURIComponent(u.id)}, u.userPrincipalName || u.id)),
        el('td', {}, levelBadge(u.riskLevel)), el('td', {}, badge(u.riskState)), el('td', {class: 'small'}, u.riskDetail || '—'),
        el('td', {}, fmtDate(u.riskLastUpdatedDateTime)),
        el('td', {class: 'actions'},
          action({action: 'dismiss', label: 'Dismiss risk', check: dismiss,
            send: () => ctx.graph('POST', '/identityProtection/riskyUsers/dismiss', {userIds: [u.id]}),
            after: reload('Risk dismissed for ' + u.userPrincipalName + '.')}), ' ',
          action({action: 'confirm-compromised', label: 'Confirm compromised', danger: true, check: confirm,
            confirmText: 'Mark ' + u.userPrincipalName + ' as compromised (risk high)?',
            send: () => ctx.graph('POST', '/identityProtection/riskyUsers/confirmCompromised', {userIds: [u.id]}),
            after: reload(u.userPrincipalName + ' confirmed compromised.')}))))),
    // Entra raises risk from its detections; the lab has none, so a
    // rehearsal sets it (POST .../setRiskLevel, a lab extension).
    form({name: 'set-risk', title: 'Simulate a risk detection (lab)', action: 'set-risk', submit: 'Set risk level',
      check: ctx.canWrite('POST /identityProtection/riskyUsers/{id}/setRiskLevel'), what: 'set risk levels',
      fields: [
        {name: 'userPrincipalName', label: 'User principal name', required: true},
        {name: 'riskLevel', label: 'Risk level', type: 'select', value: 'high', options: [['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['none', 'None']]},
      ],
      send: async (v) => {
        const u = await ctx.graph('GET', '/users/' + encodeURIComponent(v.userPrincipalName));
        if (!u.ok) return u;
        return ctx.graph('POST', '/identityProtection/riskyUsers/' + encodeURIComponent(u.data.id) + '/setRiskLevel', {riskLevel: v.riskLevel});
      },
      after: (r) => reload('Risk level of ' + r.data.userPrincipalName + ' set to ' + r.data.riskLevel + '.')()}));
}
