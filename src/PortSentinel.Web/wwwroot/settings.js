import { $, api, boot, el, show } from '/app.js';

const session = await boot();
const admin = session.role === 'admin';

/** The value as the page shows it in an input: lists one item per line (networks) or comma-separated (ports). */
function text(field) {
  if (field.type === 'object') return JSON.stringify(field.value);
  if (Array.isArray(field.value)) return field.value.join(field.type === 'networks' ? '\n' : ', ');
  return field.value === null || field.value === undefined ? '' : String(field.value);
}

/** The input's text as the API takes it; what does not parse is sent as typed, for the server to name. */
function parse(field, typed) {
  const number = s => (s !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
  switch (field.type) {
    case 'integer': case 'number': return number(typed.trim());
    case 'boolean': return typed === 'true';
    case 'integers': return typed.split(/[\s,]+/).filter(Boolean).map(number);
    case 'networks': return typed.split(/[\s,]+/).filter(Boolean);
    default: return typed;
  }
}

function input(field) {
  const name = field.path;
  const value = text(field);
  if (field.type === 'choice' || field.type === 'boolean') {
    const choices = field.type === 'boolean' ? ['true', 'false'] : field.choices;
    return el('select', { name }, choices.map(c => el('option', { selected: c === value }, c)));
  }
  if (field.type === 'networks') return el('textarea', { name, rows: Math.max(3, field.value.length + 1), cols: 28, spellcheck: 'false', placeholder: 'one address or network per line' }, value);
  if (field.type === 'integers') return el('input', { name, value, size: 24, placeholder: 'e.g. 23, 2323' });
  if (field.type === 'text') return el('input', { name, value, size: 24 });
  return el('input', { name, value, type: 'number', step: field.type === 'integer' ? 1 : 'any' });
}

function item(section, field, onReset) {
  const key = field.path.includes(':') ? field.path.slice(field.path.indexOf(':') + 1) : field.path;
  const editable = admin && section.editable && !field.pinnedBy;
  const notes = [
    field.changed ? el('span', { class: 'badge changed', title: 'set on this page; Reset goes back to the file or the default' }, 'changed here') : null,
    field.pinnedBy ? el('span', { class: 'badge', title: 'the dashboard cannot change it' }, `set by ${field.pinnedBy}`) : null,
    field.secret ? el('span', { class: 'badge' }, 'secret') : null,
    editable && field.changed ? el('button', { class: 'secondary reset', type: 'button', onclick: () => onReset(field.path) }, 'Reset') : null,
  ].filter(Boolean);
  return el('div', { class: 'field', dataset: { path: field.path } },
    el('label', { for: editable ? `f-${field.path}` : null }, key),
    editable ? Object.assign(input(field), { id: `f-${field.path}` }) : el('span', { class: 'value' }, text(field) || '—'),
    notes.length ? el('div', { class: 'notes' }, notes) : null);
}

function panel(section) {
  const status = el('div', { class: 'status' });
  const save = async changes => {
    if (Object.keys(changes).length === 0) { show(status, 'Nothing changed.', 'ok'); return; }
    try {
      draw(await api.put('/api/v1/settings', changes));
      show($(`#section-${section.name} .status`), `Saved and applied: ${Object.keys(changes).join(', ')}.`, 'ok');
    } catch (e) {
      show(status, e.message);
    }
  };
  const editable = admin && section.editable;
  const form = el('form', { id: `form-${section.name}` },
    el('div', { class: 'fields' }, section.fields.map(f => item(section, f, path => save({ [path]: null })))),
    section.name === 'Allowlist' ? el('p', { class: 'muted' }, 'Besides these, the host\'s own addresses, its default gateways and its resolvers are never blocked.') : null,
    editable ? el('div', { class: 'actions' }, el('button', { type: 'submit' }, `Save ${section.name}`)) : null,
    status);
  form.addEventListener('submit', event => {
    event.preventDefault();
    const changes = {};
    for (const field of section.fields) {
      const control = form.elements.namedItem(field.path);
      if (control && control.value !== text(field)) changes[field.path] = parse(field, control.value);
    }
    save(changes);
  });
  return el('section', { class: `panel${section.name === 'Detection' ? ' wide' : ''}`, id: `section-${section.name}` },
    el('h2', {}, section.name, ' ', el('span', { class: 'muted' }, section.editable ? (admin ? '· applies at once' : '') : '· changes at the next start')),
    form);
}

function draw(view) {
  $('#sources').textContent = `Configuration file: ${view.configFile ?? 'none (defaults)'} · changes made here: ${view.overlayFile}`;
  $('#sections').replaceChildren(...view.sections.map(panel));
}

try {
  draw(await api.get('/api/v1/settings'));
} catch (e) {
  show('#error', e.message);
}
