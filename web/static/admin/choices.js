// Helpers of the policy views (Conditional Access, strengths, locations,
// campaign): checkbox lists for id sets (a person ticks names; a test
// clicks input[name=<Graph property>][data-name="<display name>"]), the
// write permission with the server's route table or, until it answers,
// the role list the route needs, and the query string of a view's URL.

import {el} from '../dom.js';

let seq = 0;

// checklist is a fieldset of checkboxes named name, one per [value,
// label] option; selected are ticked. Values not among the options (ids
// of deleted objects) are kept as ticked "unknown" entries so saving
// never drops them silently.
export function checklist(name, legend, options, selected) {
  const chosen = new Set(selected || []);
  const known = new Set(options.map(([v]) => v));
  const all = options.concat([...chosen].filter((v) => !known.has(v)).map((v) => [v, v + ' (unknown)']));
  return el('fieldset', {class: 'checklist', 'data-list': name}, el('legend', {}, legend),
    all.length ? all.map(([v, label]) => {
      const id = 'c' + (++seq);
      return el('span', {class: 'check'}, el('input', {type: 'checkbox', id, name, value: v, 'data-name': label, checked: chosen.has(v)}),
        el('label', {for: id}, label));
    }) : el('span', {class: 'help'}, 'none to choose from'));
}

// checked is the ticked values of a checklist.
export const checked = (root, name) => [...root.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked')].map((i) => i.value);

// may answers ctx.canWrite for 'METHOD /path' as routes.go spells it,
// or for roles when the server's route table is not known.
export function may(ctx, route, roles) {
  const c = ctx.canWrite(route);
  return c.unknown ? ctx.canWrite(roles) : c;
}

// param reads the view's query string (?id=…).
export const param = (name) => new URLSearchParams(location.search).get(name) || '';
