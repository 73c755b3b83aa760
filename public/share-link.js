// "Copy link" (views/partials/share.pug, server/routes/share.ts): the server's link to these options,
// made absolute, with the current task (lesson=…&task=…) and the secret when the sender ticks them.
// The secret goes after '#' (#secret=…): browsers never send the fragment, so it reaches no server
// or log. On the page such a link opens, this script takes the secret out of the address bar and
// applies it through the options form, as if typed there.
(() => {
  const $ = (id) => document.getElementById(id);

  function currentTask() {
    const task = document.querySelector('.current-task[data-keys]') ?? document.querySelector('[data-keys]');
    return task ? JSON.parse(task.dataset.keys) : null;
  }

  function link() {
    const base = document.querySelector('#share-link a');
    if (!base) return '';
    const url = new URL(base.href);
    const task = currentTask();
    if (task && $('share-task')?.checked) {
      url.searchParams.set('lesson', task.lesson);
      url.searchParams.set('task', task.task);
    }
    const secret = $('opt-secret');
    if (secret && $('share-secret')?.checked) url.hash = new URLSearchParams({ secret: secret.value }).toString();
    return url.href;
  }

  function show() {
    const field = $('share-url');
    if (!field) return;
    field.value = link();
    const controls = document.querySelector('.share-controls');
    if (controls) controls.hidden = false;
    const taskField = document.querySelector('.share-task-field');
    const task = currentTask();
    if (taskField) taskField.hidden = !task;
    const taskLabel = document.querySelector('label[for="share-task"]');
    if (taskLabel && task) taskLabel.textContent = `With the task "${task.title}"`;
  }

  // The Clipboard API needs a secure context (HTTPS or localhost); otherwise the link is selected.
  async function copy() {
    const field = $('share-url');
    const status = $('share-status');
    show();
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = 'Copied.';
    } catch {
      field.select();
      status.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
    }
  }

  /** A link's #secret=…: out of the address bar first (bookmarks, history), then into the form. */
  function applySharedSecret() {
    const secret = new URLSearchParams(location.hash.slice(1)).get('secret');
    if (secret === null) return;
    history.replaceState(history.state, '', location.pathname + location.search);
    const field = $('opt-secret');
    if (!field) return;
    field.value = secret;
    const form = field.form;
    const apply = () => form.dispatchEvent(new Event('change', { bubbles: true }));
    // htmx starts after DOMContentLoaded (a deferred script finds the document past 'loading' and
    // waits a task): send the change once it listens to the form, or the change goes nowhere.
    if (form.hasAttribute('data-htmx-powered')) apply();
    else form.addEventListener('htmx:after:init', apply, { once: true });
  }

  document.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('#share-copy')) copy();
  });
  document.addEventListener('change', (event) => {
    if (event.target instanceof Element && event.target.closest('.share-controls, #options-form')) show();
  });
  // After the options form's answer (the link names the new options), and when the current task changes (public/presenter.js).
  document.addEventListener('htmx:after:settle', show);
  document.addEventListener('cookielab:task', show);
  document.addEventListener('DOMContentLoaded', () => {
    show();
    applySharedSecret();
  });
})();
