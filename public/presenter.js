// Presenter mode and the keys for a live demo (docs/presenter.md).
//
// Loaded in <head> without defer: it puts the mode on <html> before the first paint. The choice is
// remembered in localStorage, not a cookie: a Path=/ cookie would travel with every sandbox request
// and show in the very Cookie header the class is reading (and "Clear my cookie" would name it).
// `?present=1` / `?present=0` (the bookmarkable form, which the server also reads) wins, and is
// remembered. Only pages that can present (lessons, sandboxes: data-presentable) are affected.
//
// Keys (listed by views/partials/presenter.pug): n / p next and previous task, r run the task's
// request, o set (again: put back) the options the task is about, h next hint, m presenter mode,
// ? the list. What r and o do comes from each task's data-keys (server/lessons/task-keys.ts).
(() => {
  const root = document.documentElement;
  if (!root.hasAttribute('data-presentable')) return;
  const STORED = 'cookielab.presenter';
  const remembered = {
    get: () => { try { return localStorage.getItem(STORED); } catch { return null; } },
    set: (value) => { try { localStorage.setItem(STORED, value); } catch { /* private mode: not remembered */ } },
  };
  const asked = new URLSearchParams(location.search).get('present');
  if (asked === '1' || asked === '0') remembered.set(asked);
  root.classList.toggle('presenting', asked === '1' || (asked !== '0' && remembered.get() === '1'));

  const $ = (id) => document.getElementById(id);
  const presenting = () => root.classList.contains('presenting');
  const say = (text) => { const out = $('keys-status'); if (out) out.textContent = text; };

  function showToggle() {
    const link = $('presenter-toggle');
    if (!link) return;
    link.textContent = presenting() ? 'Leave presenter mode' : 'Presenter mode';
    const url = new URL(location.href);
    url.searchParams.set('present', presenting() ? '0' : '1');
    link.href = url.pathname + url.search;
  }

  function setPresenting(on) {
    root.classList.toggle('presenting', on);
    remembered.set(on ? '1' : '0');
    // A URL that says otherwise would undo the switch on reload (or in the bookmark made next).
    const url = new URL(location.href);
    if (url.searchParams.has('present')) {
      url.searchParams.set('present', on ? '1' : '0');
      history.replaceState(history.state, '', url);
    }
    showToggle();
    markCurrent();
    say(on ? 'Presenter mode' : 'Presenter mode off');
  }

  // The current task: the one n / p chose, else the first one not solved yet.
  let chosen = null;
  let runs = 0;
  const tasks = () => [...document.querySelectorAll('[data-keys]')];
  const keysOf = (task) => JSON.parse(task.dataset.keys);
  const current = () => {
    const all = tasks();
    return all.find((t) => t.id === chosen) ?? all.find((t) => !t.classList.contains('solved')) ?? all[0] ?? null;
  };

  /** Marks the current task (class current-task; public/share-link.js reads it too). Tasks' refreshes morph it away: redone after each. */
  function markCurrent() {
    const now = current();
    for (const task of tasks()) {
      task.classList.toggle('current-task', task === now);
      if (task === now && (presenting() || chosen)) task.setAttribute('aria-current', 'step');
      else task.removeAttribute('aria-current');
    }
    document.dispatchEvent(new Event('cookielab:task'));
  }

  function move(by) {
    const all = tasks();
    if (!all.length) return say('No tasks on this page');
    const i = Math.min(all.length - 1, Math.max(0, all.indexOf(current()) + by));
    chosen = all[i].id;
    runs = 0;
    markCurrent();
    all[i].scrollIntoView({ block: 'nearest' });
    say(`Task ${i + 1} of ${all.length}: ${keysOf(all[i]).title}`);
  }

  function run() {
    const task = current();
    const list = task && keysOf(task).requests.length ? keysOf(task).requests : [{ request: 'visit' }];
    const step = list[runs++ % list.length];
    const of = list.length > 1 ? ` (${((runs - 1) % list.length) + 1} of ${list.length})` : '';
    if (step.request === 'probe') {
      $('probe-button')?.click();
      return say(`Read document.cookie${of}`);
    }
    const form = [...document.querySelectorAll('.request-forms form')].find((f) => new URL(f.action).pathname.endsWith(`/${step.request}`));
    if (!form) return say(`No ${step.request} button on this page`);
    for (const name of ['key', 'value', 'ms']) if (step[name] !== undefined && form.elements[name]) form.elements[name].value = String(step[name]);
    form.requestSubmit();
    say(`Ran ${form.querySelector('button').textContent}${of}`);
  }

  // What the options held before o set a task's options, per task: o again puts them back.
  const before = new Map();
  function toggleOptions() {
    const task = current();
    const options = task ? keysOf(task).options : [];
    const form = $('options-form');
    if (!options.length || !form) return say(task ? 'This task sets no option' : 'No task on this page');
    const control = (o) => form.elements.namedItem(o.field);
    const read = (c) => (c.type === 'checkbox' ? (c.checked ? 'on' : '') : c.value);
    const write = (c, value) => (c.type === 'checkbox' ? (c.checked = value === 'on') : (c.value = value));
    const set = options.every((o) => read(control(o)) === o.value);
    let values;
    if (set) {
      // Back to what they were; a checkbox already as the lesson starts flips, so o always shows a change.
      const old = before.get(task.id) ?? options.map((o) => o.start);
      values = options.map((o, i) => (old[i] !== o.value ? old[i] : control(o).type === 'checkbox' ? (o.value === 'on' ? '' : 'on') : o.value));
    } else {
      before.set(task.id, options.map((o) => read(control(o))));
      values = options.map((o) => o.value);
    }
    options.forEach((o, i) => write(control(o), values[i]));
    // One change for them all: the form sends every field, so the sandbox ends with what it shows.
    form.dispatchEvent(new Event('change', { bubbles: true }));
    say(options.map((o, i) => `${o.field}: ${values[i] === '' ? 'off/empty' : values[i]}`).join(', '));
  }

  function hint() {
    const task = current();
    if (!task) return say('No task on this page');
    const button = task.querySelector('form[action$="/hints"] button');
    if (button) {
      button.form.requestSubmit();
      return say('Hint');
    }
    const more = task.querySelector('details.solution, details.hints-list');
    if (more && !more.open) {
      more.open = true;
      return say(more.classList.contains('solution') ? 'Solution' : 'Hints');
    }
    say(task.classList.contains('solved') ? 'This task is solved' : 'No more hints');
  }

  function help() {
    const dialog = $('keys-help');
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  const KEYS = { n: () => move(1), p: () => move(-1), r: run, o: toggleOptions, h: hint, m: () => setPresenting(!presenting()), '?': help };

  /** Where a letter is text: fields one types in (a checkbox or a button is not one). */
  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.closest('textarea, select, [contenteditable]:not([contenteditable="false"])')) return true;
    return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image'].includes(target.type);
  }

  document.addEventListener('keydown', (event) => {
    const action = KEYS[event.key];
    if (!action || event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    // "?" takes Shift on most layouts; a shifted letter is not a shortcut.
    if (event.shiftKey && event.key !== '?') return;
    if (typing(event.target)) return;
    if ($('keys-help')?.open && event.key !== '?') return;
    event.preventDefault();
    action();
  });

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest('#presenter-toggle')) {
      event.preventDefault();
      setPresenting(!presenting());
    } else if (target?.closest('#keys-open')) help();
  });

  document.addEventListener('htmx:after:settle', markCurrent);
  document.addEventListener('DOMContentLoaded', () => {
    const open = $('keys-open');
    if (open) open.hidden = false;
    showToggle();
    markCurrent();
  });
})();
