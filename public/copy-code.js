// Copy buttons for the code panel. The Clipboard API needs a secure context (HTTPS or localhost); a
// classroom server on plain HTTP has none, so the text is then selected for the learner to copy.
document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.copy-code') : null;
  if (!button) return;
  const source = document.getElementById(button.dataset.copyFrom ?? '');
  const status = button.parentElement?.querySelector('.copy-status');
  if (!source) return;
  const text = source.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    if (status) status.textContent = 'Copied.';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    if (status) status.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
  }
});
