// The second site's buttons (views/other-site.pug): each sends one kind of request to the learner's
// sandbox, from this other site, then asks this page's own origin for the grid again, which shows
// what the server received. The link and the form are real ones (top-level navigations); the
// sandbox answers them with a redirect back here.
(() => {
  const reading = () => document.getElementById('page-reading');
  const say = (text) => {
    const out = reading();
    if (out) out.textContent = text;
  };

  function send(kind, url) {
    if (kind === 'image') {
      return new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve('The image loaded.');
        img.onerror = () => resolve('The image did not load.');
        img.src = url;
      });
    }
    if (kind === 'iframe') {
      return new Promise((resolve) => {
        const frame = document.createElement('iframe');
        frame.title = 'Your sandbox, framed by this site';
        frame.onload = () => resolve('The frame loaded: it shows what your sandbox saw.');
        frame.src = url;
        document.getElementById('frame-slot').replaceChildren(frame);
      });
    }
    const forwarded = document.getElementById('forwarded');
    const headers = forwarded && forwarded.checked ? { 'X-Forwarded-Proto': 'https' } : {};
    const credentials = kind === 'fetch-credentials' ? 'include' : 'same-origin';
    return fetch(url, { credentials, headers, cache: 'no-store' }).then(
      async (answer) => {
        const body = await answer.json();
        return `This page could read the answer: ${body.words}`;
      },
      () => 'This page could not read the answer: the browser refused it (a CORS error, in the console). The request reached your sandbox all the same: see the grid.',
    );
  }

  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-send]') : null;
    if (!button) return;
    say('Sending…');
    button.disabled = true;
    try {
      say(await send(button.dataset.send, button.dataset.url));
    } finally {
      button.disabled = false;
      // The grid's own request goes to this page's origin: no cookie of the sandbox is involved.
      document.dispatchEvent(new CustomEvent('cross-site-sent'));
    }
  });
})();
