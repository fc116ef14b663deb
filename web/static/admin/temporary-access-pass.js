// The Temporary Access Pass method policy: lifetimes, length, one-time
// use and its targets.

import {el} from '../dom.js';
import {badge} from '../format.js';
import {dl, table, directoryNames} from './form.js';

export default async function render(ctx) {
  ctx.heading('Temporary Access Pass');
  const res = await ctx.graph('GET', '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass');
  if (!res.ok) return ctx.failWith(res);
  const {nameOf} = await directoryNames(ctx);
  const c = res.data;
  ctx.view.append(
    dl([['State', badge(c.state)], ['Minimum lifetime', c.minimumLifetimeInMinutes + ' min'], ['Maximum lifetime', c.maximumLifetimeInMinutes + ' min'],
      ['Default lifetime', c.defaultLifetimeInMinutes + ' min'], ['Length', String(c.defaultLength)], ['One-time use', c.isUsableOnce ? 'Yes' : 'No']]),
    table('Included targets', ['Target', 'Type'], (c.includeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))),
    table('Excluded targets', ['Target', 'Type'], (c.excludeTargets || []).map((t) => el('tr', {}, el('th', {scope: 'row'}, nameOf(t.id)), el('td', {}, t.targetType)))));
}
