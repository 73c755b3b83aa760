// The one thing the server cannot know: what page JavaScript can read. Shows document.cookie on
// demand and after every htmx swap, so an HttpOnly cookie's absence is visible at once.
(() => {
  function readCookies() {
    const output = document.getElementById('probe-output');
    if (!output) return;
    output.textContent = document.cookie === '' ? '(empty: page JavaScript sees no cookie)' : document.cookie;
  }
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('probe-button')?.addEventListener('click', readCookies);
  });
  document.addEventListener('htmx:after:swap', readCookies);
})();
