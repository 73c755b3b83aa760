// The one thing the server cannot know: what page JavaScript can read. Shows document.cookie on
// demand (and reports it to the server, where lesson tasks check it) and after every htmx swap.
(() => {
  function show() {
    const output = document.getElementById('probe-output');
    if (output) output.textContent = document.cookie === '' ? '(empty: page JavaScript sees no cookie)' : document.cookie;
  }

  async function probe(button) {
    show();
    const url = button.dataset.probeUrl;
    if (!url) return;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ documentCookie: document.cookie }),
    });
    if (response.ok) document.body.dispatchEvent(new CustomEvent('sandbox-probe', { bubbles: true }));
  }

  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('#probe-button') : null;
    if (button) probe(button);
  });
  document.addEventListener('htmx:after:swap', show);
})();
