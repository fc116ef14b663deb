// The sign-in logs: each sign-in with its Conditional Access result and,
// expanded, its basic info, the policies evaluated and the steps.

import {el} from '../dom.js';
import {codeOf} from '../api.js';
import {fmtDate, methodName, resultName, badge} from '../format.js';
import {dl, table, directoryNames} from './form.js';

// The list's Conditional Access column: the enforced status and, when a
// report-only policy had something to say, its result too (a report-only
// success is otherwise just "Not applied").
function caSummary(s) {
  const order = ['reportOnlyFailure', 'reportOnlyInterrupted', 'reportOnlySuccess'];
  const results = (s.appliedConditionalAccessPolicies || []).map((p) => p.result);
  const ro = order.find((r) => results.includes(r));
  return ro ? el('span', {}, badge(s.conditionalAccessStatus), ' ', badge(ro)) : badge(s.conditionalAccessStatus);
}

function signInDetails(s, nameOf) {
  const reasonText = (r) => !r || !r.code ? '' : [r.code, r.condition, r.property && r.value ? r.property + ' = ' + nameOf(r.value) : r.property || r.value,
    r.matched && 'matched ' + r.matched, r.previouslySatisfied && 'previously satisfied'].filter(Boolean).join(' · ');
  const ca = (s.appliedConditionalAccessPolicies || []);
  const steps = (s.authenticationDetails || []);
  return el('div', {class: 'details'},
    el('h3', {}, 'Basic info'),
    dl([['Request / correlation id', (s.id || '') + ' / ' + (s.correlationId || '')], ['IP address', s.ipAddress || '—'],
      ['Client app', s.clientAppUsed || '—'], ['Authentication requirement', s.authenticationRequirement || '—'],
      ['Methods used', (s.authenticationMethodsUsed || []).map(methodName).join(', ') || '—'],
      ['Failure reason', (s.status && s.status.failureReason) || '—']]),
    el('h3', {}, 'Conditional Access'),
    ca.length ? table('Policies evaluated (' + resultName(s.conditionalAccessStatus) + ')', ['Policy', 'Result', 'Grant controls', 'Authentication strength', 'Why'],
      ca.map((p) => el('tr', {}, el('th', {scope: 'row'}, p.displayName), el('td', {}, badge(p.result)),
        el('td', {}, (p.enforcedGrantControls || []).join(', ') || '—'),
        el('td', {}, p.authenticationStrength && p.authenticationStrength.displayName
          ? p.authenticationStrength.displayName + ': ' + (p.authenticationStrength.authenticationStrengthResult || '') : '—'),
        el('td', {class: 'small'}, [reasonText(p.explanation && p.explanation.scope), reasonText(p.explanation && p.explanation.grant)].filter(Boolean).join('; ') || p.conditionsNotSatisfied || '—'))))
      : el('p', {}, 'No Conditional Access policy applied to this sign-in.'),
    el('h3', {}, 'Authentication details'),
    steps.length ? table('Authentication steps', ['Date', 'Method', 'Method detail', 'Succeeded', 'Result detail', 'Requirement'],
      steps.map((d) => el('tr', {}, el('td', {}, fmtDate(d.authenticationStepDateTime)), el('th', {scope: 'row'}, methodName(d.authenticationMethod)),
        el('td', {}, d.authenticationMethodDetail || '—'), el('td', {}, d.succeeded ? 'Yes' : 'No'),
        el('td', {}, d.authenticationStepResultDetail || '—'), el('td', {}, d.authenticationStepRequirement || '—'))))
      : el('p', {}, 'No authentication steps recorded.'));
}

export default async function render(ctx) {
  ctx.heading('Sign-in logs');
  const res = await ctx.graph('GET', '/auditLogs/signIns?$top=100');
  const {nameOf} = await directoryNames(ctx);
  if (res.status === 404 && codeOf(res) === 'Request_UnsupportedQuery') {
    ctx.view.append(el('p', {}, 'This server does not serve /auditLogs/signIns yet.'));
    return;
  }
  if (!res.ok) return ctx.failWith(res);
  const list = res.data.value || [];
  if (!list.length) { ctx.view.append(el('p', {}, 'No sign-ins recorded yet.')); return; }
  const body = el('tbody', {});
  list.forEach((s, i) => {
    const detailId = 'signin-detail-' + i;
    const ok = s.status && s.status.errorCode === 0;
    const btn = el('button', {type: 'button', class: 'expand', 'aria-expanded': 'false', 'aria-controls': detailId}, 'Details');
    const detail = el('tr', {id: detailId, class: 'detail', hidden: true}, el('td', {colspan: 7}, signInDetails(s, nameOf)));
    btn.addEventListener('click', () => {
      const open = btn.getAttribute('aria-expanded') !== 'true';
      btn.setAttribute('aria-expanded', String(open));
      btn.textContent = open ? 'Hide' : 'Details';
      detail.hidden = !open;
    });
    body.append(el('tr', {class: 'signin'},
      el('td', {}, fmtDate(s.createdDateTime)),
      el('th', {scope: 'row'}, s.userPrincipalName || s.userId),
      el('td', {}, s.appDisplayName || s.appId),
      el('td', {}, ok ? badge('success') : el('span', {}, badge('failure'), ' ', el('span', {class: 'code'}, String(s.status && s.status.errorCode)))),
      el('td', {}, caSummary(s)),
      el('td', {}, (s.authenticationMethodsUsed || []).map(methodName).join(', ') || '—'),
      el('td', {}, btn)), detail);
  });
  ctx.view.append(el('table', {class: 'signins'}, el('caption', {}, list.length + ' most recent sign-ins'),
    el('thead', {}, el('tr', {}, ['Date', 'User', 'Application', 'Status', 'Conditional Access', 'Methods', ''].map((h) => el('th', {scope: 'col'}, h || el('span', {class: 'sr-only'}, 'Details'))))),
    body));
}
