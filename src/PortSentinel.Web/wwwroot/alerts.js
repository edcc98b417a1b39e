import { $, action, api, boot, el, live, pager, score, severity, show, throttle, time } from '/app.js';

await boot();

const KINDS = ['tcp-syn', 'tcp-connect', 'tcp-fin', 'tcp-xmas', 'tcp-null', 'tcp-maimon', 'tcp-ack', 'tcp-other', 'udp', 'sctp-init', 'ip-protocol',
  'icmp-sweep', 'tcp-ping-sweep', 'vertical', 'horizontal', 'block', 'slow', 'distributed', 'tripwire'];
const form = $('#filter');
form.kind.append(...KINDS.map(k => el('option', {}, k)));
let page = 1;
let selected = null;

/** The filter as query parameters (the API's names), from the form. */
function filter() {
  const params = new URLSearchParams();
  for (const name of ['source', 'kind', 'severity', 'blocked', 'q']) if (form[name].value.trim()) params.set(name, form[name].value.trim());
  for (const name of ['from', 'to']) if (form[name].value) params.set(name, new Date(form[name].value).toISOString());
  return params;
}

function exportLinks() {
  for (const format of ['csv', 'json']) {
    const params = filter();
    params.set('format', format);
    $(`#export-${format}`).href = `/api/v1/alerts/export?${params}`;
  }
}

async function load() {
  const params = filter();
  params.set('page', page);
  params.set('pageSize', 50);
  history.replaceState(null, '', `?${filter()}${location.hash}`);
  exportLinks();
  try {
    const result = await api.get(`/api/v1/alerts?${params}`);
    show('#error', '');
    $('#alerts').replaceChildren(...result.items.map(a => row(a, result.reputations[a.source])));
    pager($('#pager'), result.page, result.pageSize, result.total, p => { page = p; load(); });
  } catch (e) {
    show('#error', e.message);
  }
}

function row(a, reputation) {
  return el('tr', { class: `clickable${a.id === selected ? ' selected' : ''}`, dataset: { id: a.id, source: a.source }, onclick: () => detail(a.id) },
    el('td', {}, time(a.raised ?? a.last)), el('td', {}, a.source, ' ', score(reputation)), el('td', {}, a.kinds.join(', ')), el('td', {}, severity(a.severity)),
    el('td', {}, action(a.action)), el('td', { class: 'hide-narrow' }, a.ports), el('td', { class: 'hide-narrow' }, a.targets), el('td', { class: 'hide-narrow' }, a.probes));
}

let selectedSource = null;

async function detail(id) {
  selected = id;
  history.replaceState(null, '', `${location.search}#${id}`);
  for (const tr of $('#alerts').children) tr.classList.toggle('selected', Number(tr.dataset.id) === id);
  const box = $('#detail');
  try {
    const { alert: a, bans, reputation: r } = await api.get(`/api/v1/alerts/${id}`);
    selectedSource = a.source;
    const o = a.outcomes;
    box.replaceChildren(
      el('h2', {}, `Alert ${a.id}: ${a.source}`),
      el('dl', { class: 'facts' },
        ...[
          ['Kinds', a.kinds.join(', ')], ['Severity', severity(a.severity)], ['Action', action(a.action)], ['Why', a.reason ?? 'recorded when the scan ended, undecided'],
          ['First probe', time(a.first)], ['Last probe', time(a.last)], ['Raised', time(a.raised) || '—'], ['Ended', a.ended ? time(a.ended) : 'still going on'],
          ['Ports probed', `${a.ports}: ${a.portRanges || '—'}`], ['Targets', `${a.targets}: ${a.targetList.join(', ')}${a.targetList.length < a.targets ? ', …' : ''}`],
          ['Protocols', a.protocols], ['First contacts', a.probes], ['Recognised by', `${a.trigger} (confidence ${a.confidence.toFixed(3)})`],
          ['Address', a.verified
            ? 'verified: it acknowledged a SYN-ACK sent to it, so it is at this address'
            : 'not verified: it never answered a SYN-ACK, so its packets may be forged (held briefly, not banned)'],
          ['Answers', `${o.open} open · ${o.closed} closed · ${o.unreachable} unreachable · ${o.unanswered} unanswered · ${o.dropped} dropped`],
          ['Reputation', r
            ? [score(r), ` ${r.totalReports} reports${r.lastReportedAt ? `, the last ${time(r.lastReportedAt)}` : ''} · ${[r.countryCode, r.isp, r.domain].filter(Boolean).join(' · ')} · looked up ${time(r.checkedAt)}`]
            : 'not looked up (AbuseIPDB is off, the address is not public, or the lookup is pending)'],
        ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      el('h2', {}, 'Bans of this source'),
      bans.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('table', {}, el('tbody', {}, bans.map(b => el('tr', {},
        el('td', {}, b.network), el('td', {}, time(b.created)), el('td', {}, b.expires ? `until ${time(b.expires)}` : 'permanent'),
        el('td', {}, b.active ? 'in force' : `lifted ${time(b.lifted)} by ${b.liftedBy}`), el('td', {}, b.hold ? `hold: ${b.reason}` : b.reason))))));
    box.classList.remove('hidden');
  } catch (e) {
    show(box, e.message);
    box.classList.remove('hidden');
  }
}

// The filter from the address (links from the overview), the alert from the fragment.
const initial = new URLSearchParams(location.search);
for (const name of ['source', 'kind', 'severity', 'blocked', 'q']) if (initial.has(name)) form[name].value = initial.get(name);
form.addEventListener('submit', event => { event.preventDefault(); page = 1; load(); });
form.addEventListener('reset', () => setTimeout(() => { page = 1; load(); }));
await load();
if (location.hash.length > 1) detail(Number(location.hash.slice(1)));

// New alerts: the first page reloads (at most once a second); later pages say how many came.
let waiting = 0;
const reload = throttle(() => { waiting = 0; $('#live-note').textContent = ''; load(); }, 1000);
function arrived(count) {
  if (page === 1) reload();
  else $('#live-note').textContent = `· ${waiting += count} new since this page was loaded`;
}
// A reputation looked up after its alert: the rows and the detail of that source show it.
function reputation(r) {
  if ([...$('#alerts').children].some(tr => tr.dataset.source === r.address)) reload();
  if (r.address === selectedSource) detail(selected);
}
live({ alert: () => arrived(1), 'alert-ended': () => page === 1 && reload(), alerts: s => arrived(s.raised), reputation });
