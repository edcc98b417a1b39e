import { $, api, applyTheme, show } from '/app.js';

applyTheme();
const session = await api.load();
const next = new URLSearchParams(location.search).get('next');
const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
if (session.user) location.href = target;
if (session.setup) location.href = '/setup.html';

$('#login').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  try {
    await api.post('/api/v1/session', { name: form.name.value.trim(), password: form.password.value });
    location.href = target;
  } catch (e) {
    show('#error', e.message);
    form.password.value = '';
  }
});
