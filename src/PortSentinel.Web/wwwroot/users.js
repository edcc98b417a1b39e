import { $, api, boot, el, pager, show, time } from '/app.js';

const session = await boot();
if (session.role !== 'admin') location.href = '/';
let auditPage = 1;

async function act(work, done) {
  try {
    await work();
    show('#error', done, 'ok');
    await load();
  } catch (e) {
    show('#error', e.message);
  }
}

async function load() {
  const [users, tokens, audit] = await Promise.all([api.get('/api/v1/users'), api.get('/api/v1/tokens'), api.get(`/api/v1/audit?page=${auditPage}&pageSize=25`)]);
  $('#users').replaceChildren(...users.map(u => el('tr', {},
    el('td', {}, u.name), el('td', {}, u.role), el('td', { class: 'hide-narrow' }, time(u.created)),
    el('td', {}, u.lockedUntil && new Date(u.lockedUntil) > new Date() ? `locked until ${time(u.lockedUntil)}` : 'active'),
    el('td', {},
      el('button', { class: 'secondary', type: 'button', onclick: () => act(() => api.patch(`/api/v1/users/${encodeURIComponent(u.name)}`, { role: u.role === 'admin' ? 'viewer' : 'admin' }), `${u.name} changed.`) }, u.role === 'admin' ? 'Make viewer' : 'Make admin'), ' ',
      el('button', { class: 'secondary', type: 'button', onclick: () => { const password = prompt(`New password for ${u.name} (at least 12 characters):`); if (password) act(() => api.patch(`/api/v1/users/${encodeURIComponent(u.name)}`, { password }), `New password set for ${u.name}.`); } }, 'Set password'), ' ',
      el('button', { class: 'danger', type: 'button', onclick: () => confirm(`Remove ${u.name}?`) && act(() => api.del(`/api/v1/users/${encodeURIComponent(u.name)}`), `${u.name} removed.`) }, 'Remove')))));
  $('#tokens').replaceChildren(...tokens.map(t => el('tr', {},
    el('td', {}, t.id), el('td', {}, t.name), el('td', {}, t.role), el('td', { class: 'hide-narrow' }, t.createdBy), el('td', {}, time(t.lastUsed) || 'never'),
    el('td', {}, t.revoked ? `revoked ${time(t.revoked)}` : 'in use'),
    el('td', {}, t.revoked ? '' : el('button', { class: 'danger', type: 'button', onclick: () => confirm(`Revoke token ${t.name}?`) && act(() => api.del(`/api/v1/tokens/${t.id}`), `Token ${t.name} revoked.`) }, 'Revoke')))));
  $('#audit').replaceChildren(...audit.items.map(a => el('tr', {},
    el('td', {}, time(a.at)), el('td', {}, a.actor), el('td', {}, a.action), el('td', {}, a.target), el('td', { class: 'hide-narrow' }, a.detail), el('td', { class: 'hide-narrow' }, a.remote))));
  pager($('#pager'), audit.page, audit.pageSize, audit.total, p => { auditPage = p; load(); });
}

$('#add-user').addEventListener('submit', event => {
  event.preventDefault();
  const f = event.target;
  act(() => api.post('/api/v1/users', { name: f.name.value.trim(), role: f.role.value, password: f.password.value }), `${f.name.value.trim()} added.`).then(() => f.reset());
});

$('#add-token').addEventListener('submit', async event => {
  event.preventDefault();
  const f = event.target;
  try {
    const created = await api.post('/api/v1/tokens', { name: f.name.value.trim(), role: f.role.value });
    $('#new-token').replaceChildren(el('p', {}, `Token ${created.name} (${created.role}). Copy it now: it is not shown again.`), el('div', { class: 'secret', id: 'token-value' }, created.token));
    f.reset();
    await load();
  } catch (e) {
    show('#new-token', e.message);
  }
});

await load();
