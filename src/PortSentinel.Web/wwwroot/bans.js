import { $, api, boot, duration, el, live, pager, show, throttle, time } from '/app.js';

const session = await boot();
const admin = session.role === 'admin';
$('#block-panel').classList.toggle('hidden', !admin);
let historyPage = 1;
let active = [];
let loadedAt = Date.now();

function remaining(ban) {
  return ban.remainingSeconds === null ? 'permanent' : duration(ban.remainingSeconds - (Date.now() - loadedAt) / 1000);
}

function drawActive() {
  $('#active').replaceChildren(...(active.length === 0 ? [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No bans in force.'))] : active.map(b => el('tr', { dataset: { network: b.network } },
    el('td', {}, b.network), el('td', { class: 'remaining' }, remaining(b)), el('td', {}, b.reason), el('td', { class: 'hide-narrow' }, time(b.created)),
    el('td', { class: 'hide-narrow' }, b.hold ? 'hold' : b.offence),
    el('td', {}, admin ? el('button', { class: 'danger unblock', type: 'button', onclick: () => unblock(b.network) }, 'Unblock') : '')))));
}

async function load() {
  try {
    active = await api.get('/api/v1/bans');
    loadedAt = Date.now();
    drawActive();
    const history = await api.get(`/api/v1/bans/history?page=${historyPage}&pageSize=25`);
    $('#history').replaceChildren(...history.items.map(b => el('tr', {},
      el('td', {}, b.network), el('td', {}, time(b.created)), el('td', {}, b.expires ? time(b.expires) : 'permanent'),
      el('td', {}, b.active ? 'in force' : b.lifted ? `lifted by ${b.liftedBy}` : 'ran out'), el('td', { class: 'hide-narrow' }, b.reason))));
    pager($('#pager'), history.page, history.pageSize, history.total, p => { historyPage = p; load(); });
    show('#load-error', '');
  } catch (e) {
    show('#load-error', e.message);
  }
}

async function unblock(network) {
  if (!confirm(`Lift the ban of ${network}?`)) return;
  try {
    await api.del(`/api/v1/bans/${network}`);
    show('#error', `${network} unblocked.`, 'ok');
    await load();
  } catch (e) {
    show('#error', e.message);
  }
}

$('#block').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  const body = { address: form.address.value.trim() };
  if (form.duration.value.trim()) body.duration = form.duration.value.trim();
  if (form.reason.value.trim()) body.reason = form.reason.value.trim();
  try {
    const ban = await api.post('/api/v1/bans', body);
    show('#block-result', `${ban.network} blocked ${ban.expires ? `until ${time(ban.expires)}` : 'permanently'}.`, 'ok');
    form.reset();
    await load();
  } catch (e) {
    show('#block-result', e.message);
  }
});

await load();
setInterval(() => { for (const cell of document.querySelectorAll('#active .remaining')) cell.textContent = remaining(active.find(b => b.network === cell.parentElement.dataset.network)); }, 1000);
setInterval(load, 30000);
const reload = throttle(load, 1000);
live({ ban: reload, unban: reload, bans: reload });
