// Named locations: IP ranges (CIDR, trusted or not) and countries, as
// Conditional Access location conditions name them; create and delete.

import {el} from '../dom.js';
import {table, form, field, action} from './form.js';
import {may} from './choices.js';

const path = '/identity/conditionalAccess/namedLocations';
const writers = ['Conditional Access Administrator', 'Security Administrator'];
const lines = (s) => String(s || '').split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export default async function render(ctx) {
  ctx.heading('Named locations');
  const res = await ctx.graph('GET', path);
  if (!res.ok) return ctx.failWith(res);
  const check = may(ctx, 'POST ' + path, writers);
  const ls = res.data.value || [];
  const isIP = (l) => /ipNamedLocation$/.test(l['@odata.type'] || '');
  ctx.view.append(table('Locations (' + ls.length + ')', ['Name', 'Kind', 'Ranges or countries', 'Trusted', ''],
    ls.map((l) => el('tr', {'data-location': l.displayName}, el('th', {scope: 'row'}, l.displayName), el('td', {}, isIP(l) ? 'IP ranges' : 'Countries'),
      el('td', {class: 'small'}, isIP(l) ? (l.ipRanges || []).map((r) => r.cidrAddress).join(', ')
        : (l.countriesAndRegions || []).join(', ') + (l.includeUnknownCountriesAndRegions ? ' + unknown countries' : '')),
      el('td', {}, isIP(l) ? (l.isTrusted ? 'Yes' : 'No') : '—'),
      el('td', {class: 'actions'}, action({action: 'delete', label: 'Delete', danger: true, check, what: 'delete named locations',
        confirmText: 'Delete ' + l.displayName + '?', send: () => ctx.graph('DELETE', path + '/' + l.id), done: 'Deleted.', after: () => ctx.rerender()}))))),
  form({name: 'ip-location', title: 'New IP ranges location', action: 'create', submit: 'Create', check, what: 'create named locations',
    fields: [{name: 'displayName', label: 'Name', required: true},
      {name: 'ipRanges', label: 'IP ranges (CIDR, one per line)', type: 'textarea', help: 'e.g. 203.0.113.0/24 or 2001:db8::/48'},
      {name: 'isTrusted', label: 'Mark as trusted location', type: 'checkbox'}],
    send: (v) => ctx.graph('POST', path, {'@odata.type': '#microsoft.graph.ipNamedLocation', displayName: v.displayName, isTrusted: v.isTrusted,
      ipRanges: lines(v.ipRanges).map((c) => ({'@odata.type': c.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress: c}))}),
    done: 'Location created.', after: () => ctx.rerender()}),
  form({name: 'country-location', title: 'New countries location', action: 'create', submit: 'Create', check, what: 'create named locations',
    fields: [{name: 'displayName', label: 'Name', required: true},
      {name: 'countriesAndRegions', label: 'Countries and regions (two-letter codes)', help: 'e.g. DE, FR, US'},
      {name: 'includeUnknownCountriesAndRegions', label: 'Include unknown countries and regions', type: 'checkbox'}],
    send: (v) => ctx.graph('POST', path, {'@odata.type': '#microsoft.graph.countryNamedLocation', displayName: v.displayName,
      countriesAndRegions: lines(v.countriesAndRegions).map((c) => c.toUpperCase()), includeUnknownCountriesAndRegions: v.includeUnknownCountriesAndRegions}),
    done: 'Location created.', after: () => ctx.rerender()}));
}
