// The one thing the server cannot know: what page JavaScript can read. The cookie's Path is the
// sandbox's, so the probe reads document.cookie of a hidden frame under that path (a lesson page
// lives elsewhere and would never see it).
//
// Each reading is taken as a request leaves, and the same text is both sent and shown in the probe's
// output, so what the page shows is what the server recorded:
// - the jar's refresh (#jar, GET <sandbox>/jar, after every exchange, options change and Clear my
//   cookie) carries it in the X-Document-Cookie header; the server keeps it as the sandbox's probe;
// - the "Read document.cookie" button (hx-post) carries it in its body; the answer names
//   sandbox-probe in HX-Trigger, so lesson tasks check it.
// After the jar's answer this script sends sandbox-jar, which a lesson's tasks refresh on: their
// checks then see the reading just recorded.
//
// It also keeps each sandbox request to the options the learner sees: the options form applies a
// change on `change`, which fires as the learner leaves the field, often by clicking a request
// button. That request waits until the form's latest change has been answered. (hx-sync cannot say
// this: requests syncing on one element all queue behind each other, and a lesson's race needs a
// write to run during a slow visit.)
(() => {
  const frame = () => document.getElementById('probe-frame');

  /** The frame's document once it is the page under the sandbox's path (not the initial about:blank). */
  function frameReady() {
    const doc = frame()?.contentDocument;
    return Boolean(doc && doc.readyState === 'complete' && doc.location.pathname.endsWith('/frame'));
  }

  function whenFrameReady() {
    if (frameReady()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!frameReady()) return;
        frame()?.removeEventListener('load', check);
        resolve();
      };
      frame()?.addEventListener('load', check);
    });
  }

  /** Reads document.cookie under the sandbox's path and shows it in the probe's output. */
  function read() {
    const cookies = frameReady() ? frame().contentDocument.cookie : null;
    const output = document.getElementById('probe-output');
    if (output && cookies !== null) {
      const text = cookies === '' ? '(empty: page JavaScript sees no cookie)' : cookies;
      // Written only when it changes: a live region would read the same text out again.
      if (output.textContent !== text) output.textContent = text;
    }
    return cookies;
  }

  // The options form's latest request (a change or a submit), and whether it has been answered.
  let latestOptions = null;
  const answered = new WeakSet();
  let waiting = [];

  function optionsSettled() {
    return latestOptions === null || answered.has(latestOptions);
  }

  function whenOptionsSettled() {
    return optionsSettled() ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
  }

  const isSandboxRequest = (elt) => elt instanceof Element && elt.closest('.request-forms') !== null;
  const isProbe = (elt) => elt instanceof Element && (elt.id === 'probe-button' || elt.id === 'jar');

  document.addEventListener('htmx:config:request', (event) => {
    const ctx = event.detail.ctx;
    const source = ctx.sourceElement;
    if (!(source instanceof Element)) return;
    if (source.id === 'options-form') {
      latestOptions = ctx;
      return;
    }
    let wait = null;
    if (isSandboxRequest(source)) {
      // The notice of a task the previous click solved is about that click.
      document.getElementById('task-notice')?.replaceChildren();
      if (!optionsSettled()) wait = whenOptionsSettled();
    } else if (isProbe(source)) {
      if (!frame()) return event.preventDefault();
      if (!frameReady()) wait = whenFrameReady();
    }
    if (wait) {
      // htmx asks before it sends when ctx.confirm is set, and lets a listener of htmx:confirm
      // answer later (issueRequest): the request is held there, in its own element's queue.
      ctx.confirm = 'cookie-lab: wait';
      ctx.cookieLabWait = wait;
    }
  });

  document.addEventListener('htmx:confirm', (event) => {
    const { ctx, issueRequest } = event.detail;
    if (!ctx.cookieLabWait) return;
    event.preventDefault();
    ctx.cookieLabWait.then(issueRequest);
  });

  // Just before the request leaves: the reading goes with it.
  document.addEventListener('htmx:before:request', (event) => {
    const ctx = event.detail.ctx;
    const source = ctx.sourceElement;
    if (!isProbe(source)) return;
    const cookies = read();
    if (cookies === null) return;
    if (source.id === 'jar') ctx.request.headers['X-Document-Cookie'] = encodeURIComponent(cookies);
    else ctx.request.body.set('documentCookie', cookies);
  });

  document.addEventListener('htmx:finally:request', (event) => {
    const ctx = event.detail.ctx;
    if (ctx === latestOptions || (ctx.sourceElement instanceof Element && ctx.sourceElement.id === 'options-form')) {
      answered.add(ctx);
      if (optionsSettled()) {
        const ready = waiting;
        waiting = [];
        for (const resolve of ready) resolve();
      }
    } else if (ctx.sourceElement instanceof Element && ctx.sourceElement.id === 'jar') {
      htmx.trigger(ctx.sourceElement, 'sandbox-jar');
    }
  });
})();
