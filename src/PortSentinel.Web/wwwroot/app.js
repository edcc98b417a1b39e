// Shared by every page: the API client (session cookie + CSRF header), the header and navigation,
// the theme, the live event stream, and small formatting helpers. Data from the server is only
// ever put into the page as text (el()), never as HTML.

export const api = {
  csrf: null,
  session: null,

  async load() {
    this.session = await this.call('GET', '/api/v1/session');
    this.csrf = this.session.csrf;
    return this.session;
  },

  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['X-CSRF-TOKEN'] = this.csrf;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    if (response.status === 401 && !path.startsWith('/api/v1/session')) {
      location.href = '/login.html?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('not logged in');
    }
    const type = response.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await response.json() : null;
    if (!response.ok) throw new Error(data?.error || `${response.status} ${response.statusText}`);
    return data;
  },

  get(path) { return this.call('GET', path); },
  post(path, body) { return this.call('POST', path, body ?? {}); },
  patch(path, body) { return this.call('PATCH', path, body); },
  put(path, body) { return this.call('PUT', path, body); },
  del(path) { return this.call('DELETE', path); },
};

/** Builds an element: el('td', { class: 'x', onclick: f }, 'text', child). Strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(target, text, kind = 'error') {
  const box = typeof target === 'string' ? $(target) : target;
  box.replaceChildren(text ? el('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text) : '');
}

const PAGES = [
  ['/', 'Overview'], ['/alerts.html', 'Alerts'], ['/bans.html', 'Bans'], ['/settings.html', 'Settings'], ['/users.html', 'Users', 'admin'],
];

/** Every page but login and setup: requires a session, draws the header. Returns the session. */
export async function boot() {
  applyTheme();
  const session = await api.load();
  if (!session.user) {
    location.href = (session.setup ? '/setup.html' : '/login.html') + '?next=' + encodeURIComponent(location.pathname + location.search);
    return new Promise(() => {});
  }
  document.body.classList.toggle('is-admin', session.role === 'admin');
  const here = location.pathname === '/index.html' ? '/' : location.pathname;
  const nav = el('nav', { 'aria-label': 'Pages' }, PAGES.filter(([, , role]) => !role || role === session.role)
    .map(([href, name]) => el('a', { href, 'aria-current': href === here ? 'page' : null }, name)));
  const theme = el('button', { class: 'secondary', type: 'button', title: 'Light or dark', onclick: toggleTheme }, '◐');
  const logout = el('button', { class: 'secondary', type: 'button', id: 'logout', onclick: async () => { await api.post('/api/v1/session/logout'); location.href = '/login.html'; } }, 'Log out');
  document.body.prepend(el('header', { class: 'top' },
    el('span', { class: 'brand' }, 'PortSentinel'), nav,
    el('span', { class: 'who' }, el('span', { id: 'who' }, `${session.user} (${session.role})`), theme, logout)));
  return session;
}

export function applyTheme() {
  const saved = localStorage.getItem('theme');
  const dark = saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

function toggleTheme() {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('theme', next);
  applyTheme();
  window.dispatchEvent(new Event('themechange'));
}

/** Opens the live stream; handlers by event name (alert, alerts, alert-ended, ban, bans, unban, reputation, traffic, lost). */
export function live(handlers) {
  const source = new EventSource('/api/v1/live');
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, event => handler(JSON.parse(event.data)));
  }
  source.addEventListener('hello', () => document.body.dataset.live = 'connected');
  source.onerror = () => document.body.dataset.live = 'reconnecting';
  return source;
}

/** Calls fn at most once per interval, the last call winning. */
export function throttle(fn, ms) {
  let timer = null;
  return () => { if (!timer) timer = setTimeout(() => { timer = null; fn(); }, ms); };
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return 'permanent';
  seconds = Math.max(0, Math.round(seconds));
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function severity(s) { return el('span', { class: `badge sev-${s ?? 'none'}` }, s ?? '—'); }

/** AbuseIPDB's score of a source, as a badge: red from 50, amber from 1; nothing when unknown. */
export function score(reputation) {
  if (!reputation) return null;
  const level = reputation.score >= 50 ? 'sev-high' : reputation.score > 0 ? 'sev-medium' : 'sev-low';
  return el('span', { class: `badge ${level} reputation`, title: `AbuseIPDB confidence of abuse, ${reputation.totalReports} reports` }, `AbuseIPDB ${reputation.score}`);
}

export function action(a) { return el('span', { class: `act-${a ?? 'none'}` }, a ?? '—'); }

/** A pager under a table: calls go(page). */
export function pager(container, page, pageSize, total, go) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  container.replaceChildren(
    el('span', { class: 'muted' }, `${total} in all · page ${page} of ${pages}`),
    el('button', { class: 'secondary', type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Newer'),
    el('button', { class: 'secondary', type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, 'Older ›'));
}
