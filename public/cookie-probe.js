// The one thing the server cannot know: what page JavaScript can read. The cookie's Path is the
// sandbox's, so the probe reads document.cookie of a hidden frame under that path (a lesson page
// lives elsewhere and would never see it).
//
// The reading is shown again whenever the browser's cookies may have changed: after each answer
// to a sandbox request or an options change, on the events the server names in HX-Trigger
// (sandbox-exchange, sandbox-options), the same events a lesson's tasks refresh on. The
// "Read document.cookie" button is an htmx request (hx-post): this script only puts the reading in
// its body; the server's answer names sandbox-probe in HX-Trigger, so lesson tasks check it.
(() => {
  function frameCookies() {
    const frame = document.getElementById('probe-frame');
    return frame && frame.contentDocument ? frame.contentDocument.cookie : document.cookie;
  }

  /** Shows what page JavaScript under the sandbox's path sees, and returns it (null: no probe here). */
  function show() {
    const output = document.getElementById('probe-output');
    if (!output) return null;
    const cookies = frameCookies();
    output.textContent = cookies === '' ? '(empty: page JavaScript sees no cookie)' : cookies;
    return cookies;
  }

  document.addEventListener('htmx:config:request', (event) => {
    const ctx = event.detail.ctx;
    if (!(ctx.sourceElement instanceof Element) || ctx.sourceElement.id !== 'probe-button') return;
    const cookies = show();
    if (cookies === null) event.preventDefault();
    else ctx.request.body.set('documentCookie', cookies);
  });
  // Sent at the element that made the request and bubbling up; an element gone by then sends them
  // at the document, so listen there.
  for (const name of ['sandbox-exchange', 'sandbox-options']) document.addEventListener(name, show);
})();
