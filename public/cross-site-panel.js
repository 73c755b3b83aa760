// Coming back from the second site's tab (views/partials/cross-site-panel.pug): the inspector asks
// for the sandbox's latest exchange, saying which one it shows, so the server answers 204 (nothing
// to swap) unless the other site's requests recorded a newer one.
(() => {
  document.addEventListener('htmx:config:request', (event) => {
    const source = event.target instanceof Element ? event.target : null;
    if (!source || source.id !== 'inspector-catch-up') return;
    const shown = document.querySelector('#inspector article.exchange');
    const number = shown ? Number((shown.getAttribute('aria-label') || '').replace(/\D+/g, '')) || 0 : 0;
    const url = new URL(event.detail.ctx.request.action, location.href);
    url.searchParams.set('after', String(number));
    event.detail.ctx.request.action = url.pathname + url.search;
  });
})();
