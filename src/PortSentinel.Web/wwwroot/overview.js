import uPlot from '/lib/uPlot.esm.js';
import { $, api, boot, bytes, duration, el, live, score, severity, throttle, time } from '/app.js';

await boot();

const SERIES = ['tcp', 'udp', 'icmp', 'other'];
const KEEP = 300; // seconds on the chart
const data = [[], [], [], [], []];
let chart = null;

function color(name) { return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim(); }

function drawChart() {
  chart?.destroy();
  const box = $('#traffic');
  chart = new uPlot({
    width: box.clientWidth || 600,
    height: 220,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: (_, min, max) => [max - KEEP, max] }, y: { range: (_, min, max) => [0, Math.max(10, max * 1.1)] } },
    axes: [{ stroke: color('muted'), grid: { stroke: color('line') } }, { stroke: color('muted'), grid: { stroke: color('line') }, size: 60 }],
    series: [{}, ...SERIES.map(name => ({ label: name.toUpperCase(), stroke: color(name), width: 2 }))],
  }, data, box);
}

function addSample(sample) {
  data[0].push(new Date(sample.at).getTime() / 1000);
  SERIES.forEach((name, i) => data[i + 1].push(sample[name]));
  if (data[0].length > KEEP) data.forEach(column => column.shift());
  chart?.setData(data);
  $('#rates').textContent = SERIES.map(n => `${n} ${Math.round(sample[n])}/s`).join(' · ');
}

// What AbuseIPDB says of the sources in the feed, by address (from the live stream and the first page).
const reputations = new Map();

function feed(alert) {
  const list = $('#feed');
  list.prepend(el('li', { dataset: { source: alert.source } }, severity(alert.severity), ' ', el('a', { href: `/alerts.html#${alert.id}` }, alert.source), ' ',
    el('span', { class: 'score' }, score(reputations.get(alert.source))), ' ',
    alert.kinds.join(', '), el('span', { class: 'muted' }, ` · ${alert.ports} ports · ${time(alert.raised ?? alert.last)}`)));
  while (list.children.length > 50) list.lastChild.remove();
}

function learn(reputation) {
  reputations.set(reputation.address, reputation);
  for (const li of $('#feed').children) if (li.dataset.source === reputation.address) li.querySelector('.score').replaceChildren(score(reputation) ?? '');
  if (reputations.size > 500) reputations.delete(reputations.keys().next().value);
}

async function refresh() {
  const stats = await api.get('/api/v1/stats');
  const perMinute = new Map(stats.alertsPerMinute.map(m => [new Date(m.minute).getTime(), m.alerts]));
  const now = Math.floor(Date.now() / 60000) * 60000;
  const minutes = Array.from({ length: 60 }, (_, i) => perMinute.get(now - (59 - i) * 60000) ?? 0);
  const most = Math.max(1, ...minutes);
  $('#alerts-per-minute').replaceChildren(...minutes.map(n => el('div', { title: `${n} alerts`, 'data-height': Math.round(n / most * 100) })));
  for (const bar of $('#alerts-per-minute').children) bar.style.height = `${bar.dataset.height}%`;
  $('#alert-count').textContent = minutes.reduce((a, b) => a + b, 0);
  $('#ban-count').textContent = stats.activeBans;
  $('#bans-added').textContent = `${stats.bansAdded} added since the sensor started`;
  const h = stats.health;
  const facts = [
    ['Firewall', h.firewall], ['Uptime', duration(h.uptimeSeconds)], ['CPU', `${h.cpuPercent.toFixed(1)} %`], ['Memory', bytes(h.memoryBytes)],
    ['Database', bytes(h.databaseBytes)], ['Firewall errors', h.firewallErrors], ['Live pages', h.livePages],
    ['Reputation', !h.reputation ? 'off (no AbuseIPDB key)' : h.reputation.state === 'paused'
      ? `paused until ${time(h.reputation.pausedUntil)}: ${h.reputation.problem}`
      : `${h.reputation.lookupsToday} of ${h.reputation.dailyQuota} lookups today`],
    ...h.captures.map(c => [c.device, `${c.state}${c.state === 'capturing' ? '' : ` (${c.problem ?? 'not there'})`} · ${c.received} received · ${c.dropped + c.interfaceDropped} dropped · ${c.malformed} malformed`]),
  ];
  $('#health').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('#top-sources').replaceChildren(...stats.topSources.map(s => el('tr', {},
    el('td', {}, el('a', { href: `/alerts.html?source=${encodeURIComponent(s.address)}` }, s.address)), el('td', {}, s.alerts), el('td', {}, s.probes), el('td', { class: 'hide-narrow' }, time(s.last)))));
  return stats;
}

api.get('/api/v1/reports').then(reports => {
  const latest = reports.find(r => r.name.endsWith('.html'));
  $('#report-link').replaceChildren(latest
    ? el('a', { href: `/api/v1/reports/${latest.name}`, target: '_blank', rel: 'noopener', id: 'latest-report' }, `Daily report of ${latest.name.slice(7, 17)}`)
    : 'No daily report yet.');
}, () => {});
const stats = await refresh();
stats.traffic.forEach(addSample);
const latest = await api.get('/api/v1/alerts?pageSize=10');
Object.values(latest.reputations).forEach(learn);
latest.items.reverse().forEach(feed);
drawChart();
new ResizeObserver(throttle(() => chart?.setSize({ width: $('#traffic').clientWidth, height: 220 }), 100)).observe($('#traffic'));
window.addEventListener('themechange', drawChart);
setInterval(refresh, 15000);
const refreshSoon = throttle(refresh, 1000);
live({
  traffic: addSample,
  alert: alert => { feed(alert); refreshSoon(); },
  alerts: summary => { summary.latest.forEach(feed); refreshSoon(); },
  ban: refreshSoon,
  unban: refreshSoon,
  bans: refreshSoon,
  reputation: learn,
});
