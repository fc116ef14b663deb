// Authentication strengths: the three built-in ones (read-only) and custom
// ones: create with the allowed method combinations, change the
// combinations (updateAllowedCombinations), delete (refused while a policy
// requires it: authenticationStrengthInUse).

import {el} from '../dom.js';
import {table, form, field, action} from './form.js';
import {checklist, checked, may} from './choices.js';

const path = '/identity/conditionalAccess/authenticationStrength/policies';
const writers = ['Conditional Access Administrator', 'Security Administrator', 'Authentication Policy Administrator'];

export default async function render(ctx) {
  ctx.heading('Authentication strengths');
  const res = await ctx.graph('GET', path);
  if (!res.ok) return ctx.failWith(res);
  const check = may(ctx, 'POST ' + path, writers);
  const ss = res.data.value || [];
  // The combinations to choose from: every one a built-in strength allows
  // (Multifactor authentication lists them all).
  const combos = [...new Set(ss.filter((s) => s.policyType === 'builtIn').flatMap((s) => s.allowedCombinations || []))].sort();
  const options = combos.map((c) => [c, c]);
  ctx.view.append(table('Strengths (' + ss.length + ')', ['Name', 'Type', 'Allowed combinations', ''],
    ss.map((s) => el('tr', {'data-strength': s.displayName},
      el('th', {scope: 'row'}, s.displayName, s.description ? el('div', {class: 'small'}, s.description) : null),
      el('td', {}, s.policyType === 'builtIn' ? 'Built-in' : 'Custom'),
      el('td', {class: 'small'}, (s.allowedCombinations || []).join('; '),
        (s.combinationConfigurations || []).map((c) => el('div', {}, (c.appliesToCombinations || []).join(', ') + ' only with models: ' + (c.allowedAAGUIDs || []).join(', ')))),
      el('td', {class: 'actions'}, s.policyType === 'builtIn' ? '—' : [
        el('details', {}, el('summary', {}, 'Change combinations'), form({name: 'strength-combinations', action: 'update', submit: 'Update combinations', check, what: 'change authentication strengths', class: 'inline-form',
          fields: [checklist('allowedCombinations', 'Allowed combinations', options, s.allowedCombinations)],
          send: (v, f) => ctx.graph('POST', path + '/' + s.id + '/updateAllowedCombinations', {allowedCombinations: checked(f, 'allowedCombinations')}),
          done: 'Combinations updated.', after: () => ctx.rerender()})),
        action({action: 'delete', label: 'Delete', danger: true, check, what: 'delete authentication strengths', confirmText: 'Delete ' + s.displayName + '?',
          send: () => ctx.graph('DELETE', path + '/' + s.id), done: 'Deleted.', after: () => ctx.rerender()})])))),
  form({name: 'strength', title: 'New custom strength', action: 'create', submit: 'Create', check, what: 'create authentication strengths',
    fields: [field({name: 'displayName', label: 'Name', required: true}), field({name: 'description', label: 'Description'}),
      checklist('allowedCombinations', 'Allowed combinations', options, []),
      field({name: 'allowedAAGUIDs', label: 'Passkeys (fido2): only these models (AAGUIDs, one per line; empty: any)', type: 'textarea',
        help: 'e.g. Microsoft Authenticator: 90a3ccdf-635c-4729-a248-9b709135078f (iOS), de1e552d-db1d-4423-a619-566b625cdc84 (Android)'})],
    send: (v, f) => {
      const aaguids = String(v.allowedAAGUIDs || '').split(/[\s,]+/).filter(Boolean);
      return ctx.graph('POST', path, {displayName: v.displayName, description: v.description, allowedCombinations: checked(f, 'allowedCombinations'),
        combinationConfigurations: aaguids.length ? [{'@odata.type': '#microsoft.graph.fido2CombinationConfiguration', appliesToCombinations: ['fido2'], allowedAAGUIDs: aaguids}] : []});
    },
    done: 'Strength created.', after: () => ctx.rerender()}));
}
