// A Conditional Access policy's impact report (?id=<policy id>&days=N):
// its sign-ins by result over a window, a stacked bar chart of the series
// (plain SVG), and the users a report-only policy would block, with why.

import {el} from '../dom.js';
import {badge, fmtDate, resultName, methodName} from '../format.js';
import {dl, table} from './form.js';
import {param} from './choices.js';

const order = ['success', 'failure', 'notApplied', 'reportOnlySuccess', 'reportOnlyFailure', 'reportOnlyInterrupted', 'reportOnlyNotApplied'];
const colours = {success: '#2e7d32', failure: '#c62828', notApplied: '#9e9e9e', reportOnlySuccess: '#81c784',
  reportOnlyFailure: '#ef9a9a', reportOnlyInterrupted: '#ffb74d', reportOnlyNotApplied: '#cfd8dc'};

const svgNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

// chart draws one stacked bar per bucket of the series, coloured by
// result, with a title per segment (hover) and a legend.
export function chart(series, bucketLabel) {
  const w = 720, h = 220, left = 40, bottom = 30, top = 10;
  const totals = series.map((b) => order.reduce((n, r) => n + (b.results[r] || 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (w - left) / Math.max(1, series.length);
  const bar = Math.max(4, Math.min(40, slot * 0.7));
  const y = (n) => top + (h - top - bottom) * (1 - n / max);
  const g = svg('svg', {viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': 'Sign-ins by result per ' + bucketLabel, class: 'chart', 'data-chart': 'impact'});
  g.append(svg('line', {x1: left, y1: y(0), x2: w, y2: y(0), stroke: '#888'}), svg('text', {x: left - 6, y: y(max) + 4, 'text-anchor': 'end', 'font-size': 11}, String(max)),
    svg('text', {x: left - 6, y: y(0) + 4, 'text-anchor': 'end', 'font-size': 11}, '0'));
  series.forEach((b, i) => {
    let acc = 0;
    const x = left + i * slot + (slot - bar) / 2;
    for (const r of order) {
      const n = b.results[r] || 0;
      if (!n) continue;
      g.append(svg('rect', {x, y: y(acc + n), width: bar, height: y(acc) - y(acc + n), fill: colours[r], 'data-result': r},
        svg('title', {}, resultName(r) + ': ' + n + ' (' + new Date(b.startDateTime).toLocaleString() + ')')));
      acc += n;
    }
    if (series.length <= 12 || i % Math.ceil(series.length / 12) === 0) {
      const d = new Date(b.startDateTime);
      g.append(svg('text', {x: x + bar / 2, y: h - bottom + 14, 'text-anchor': 'middle', 'font-size': 10},
        bucketLabel === 'hour' ? d.getHours() + ':00' : (d.getMonth() + 1) + '/' + d.getDate()));
    }
  });
  const legend = el('ul', {class: 'legend'}, order.map((r) => el('li', {},
    svg('svg', {width: 12, height: 12, 'aria-hidden': 'true'}, svg('rect', {width: 12, height: 12, fill: colours[r]})), ' ', resultName(r))));
  return el('figure', {class: 'chart'}, g, el('figcaption', {}, legend));
}

export default async function render(ctx) {
  const id = param('id');
  const days = Number(param('days')) || 7;
  ctx.heading('Impact report');
  const p = await ctx.graph('GET', '/identity/conditionalAccess/policies/' + encodeURIComponent(id));
  const name = p.ok ? p.data.displayName : id;
  const start = new Date(Date.now() - days * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
  const res = await ctx.graph('GET', '/identity/conditionalAccess/policies/' + encodeURIComponent(id) + '/impact?startDateTime=' + start);
  if (!res.ok) return ctx.failWith(res);
  const r = res.data;
  ctx.heading('Impact report: ' + name);
  const windows = el('p', {class: 'windows'}, 'Window: ', [1, 7, 30].flatMap((d) => [d === days ? el('strong', {}, 'last ' + d + (d === 1 ? ' day' : ' days'))
    : el('a', {href: '/admin/conditional-access-impact?id=' + encodeURIComponent(id) + '&days=' + d, 'data-action': 'window-' + d}, 'last ' + d + (d === 1 ? ' day' : ' days')), ' ']));
  ctx.view.append(
    el('p', {}, el('a', {href: '/admin/conditional-access'}, '← All policies'), ' · ', el('a', {href: '/admin/conditional-access?edit=' + encodeURIComponent(id)}, 'Edit this policy')),
    dl([['Policy', p.ok ? [name, ' ', badge(p.data.state)] : name], ['From', fmtDate(r.startDateTime)], ['To', fmtDate(r.endDateTime)], ['Sign-ins evaluated', String(r.signIns)]]),
    windows,
    table('Sign-ins by result', ['Result', 'Sign-ins'], order.map((k) => el('tr', {'data-result-name': k}, el('th', {scope: 'row'}, badge(k)), el('td', {'data-count': ''}, String(r.results[k] || 0)))), {'data-table': 'results'}),
    r.series.length ? chart(r.series, days <= 2 ? 'hour' : 'day') : el('p', {}, 'No sign-ins evaluated this policy in the window.'),
    table('Users who would be blocked if the policy were on (' + r.wouldBeBlocked.length + ')', ['User', 'Sign-ins', 'Last sign-in', 'Apps', 'Methods used last', 'Why'],
      r.wouldBeBlocked.map((u) => el('tr', {'data-user': u.userPrincipalName}, el('th', {scope: 'row'}, u.userPrincipalName || u.userId), el('td', {}, String(u.signIns)),
        el('td', {}, fmtDate(u.lastSignInDateTime)), el('td', {}, u.apps.join(', ') || '—'), el('td', {}, u.authenticationMethodsUsed.map(methodName).join(', ') || '—'),
        el('td', {class: 'small'}, u.reasons.join('; ') || '—'))), {'data-table': 'would-be-blocked'}));
}
