// Reads a chosen progress file into the import form's JSON field, so the form posts plain text.
document.addEventListener('change', async (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.id !== 'import-file' || !input.files?.[0]) return;
  const field = document.getElementById('import-json');
  if (field) field.value = await input.files[0].text();
});
