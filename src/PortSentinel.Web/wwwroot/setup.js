import { $, api, applyTheme, show } from '/app.js';

applyTheme();
const session = await api.load();
if (!session.setup) location.href = '/login.html';
const form = $('#setup');
// The log prints the address with the token after '#': it never reaches the server's logs or a referrer.
if (location.hash.length > 1) form.token.value = location.hash.slice(1);

form.addEventListener('submit', async event => {
  event.preventDefault();
  try {
    await api.post('/api/v1/setup', { token: form.token.value.trim(), name: form.name.value.trim(), password: form.password.value });
    await api.load();
    await api.post('/api/v1/session', { name: form.name.value.trim(), password: form.password.value });
    location.href = '/';
  } catch (e) {
    show('#error', e.message);
  }
});
