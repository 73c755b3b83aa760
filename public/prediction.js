// Predict, then see: a prediction belongs to one request. Once a request from the request forms has
// been answered, the prediction fields go back to "—", so the next request is not predicted unasked.
document.addEventListener('htmx:after:request', (event) => {
  const source = event.target instanceof Element ? event.target : null;
  if (!source || !source.closest('.request-forms')) return;
  for (const select of document.querySelectorAll('#prediction select')) select.value = '';
});
