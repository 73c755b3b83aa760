// The one thing the server cannot know: what page JavaScript can read. The cookie's Path is the
// sandbox's, so the probe reads document.cookie of a hidden frame under that path (a lesson page
// lives elsewhere and would never see it). It shows the result, reports it to the server (lesson
// tasks check it), and refreshes after every htmx swap.
(() => {
  function frameCookies() {
    const frame = document.getElementById('probe-frame');
    return frame && frame.contentDocument ? frame.contentDocument.cookie : document.cookie;
  }

  function show() {
    const output = document.getElementById('probe-output');
    if (!output) return null;
    const cookies = frameCookies();
    output.textContent = cookies === '' ? '(empty: page JavaScript sees no cookie)' : cookies;
    return cookies;
  }

  async function probe(button) {
    const cookies = show();
    const url = button.dataset.probeUrl;
    if (!url || cookies === null) return;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ documentCookie: cookies }),
    });
    if (response.ok) document.body.dispatchEvent(new CustomEvent('sandbox-probe', { bubbles: true }));
  }

  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('#probe-button') : null;
    if (button) probe(button);
  });
  document.addEventListener('htmx:after:swap', show);
})();
