// "Send X-Forwarded-Proto: https" beside the sandbox's request buttons (views/partials/requests.pug):
// page JavaScript adds the header to the sandbox requests htmx sends, as any page could. Nothing
// else: express-session decides whether to believe it (proxy: true, or Express's trust proxy).
(() => {
  document.addEventListener('htmx:config:request', (event) => {
    const box = document.getElementById('forwarded-proto');
    const source = event.target instanceof Element ? event.target : null;
    if (!box || !box.checked || !source || !source.closest('.request-forms')) return;
    event.detail.ctx.request.headers['X-Forwarded-Proto'] = 'https';
  });
})();
