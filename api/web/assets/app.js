// Progressive enhancement only: every page works without it.
// A form marked data-once submits once (a double click sends one request; the server also deduplicates).
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) return;
  if (form.dataset.sent === '1') {
    event.preventDefault();
    return;
  }
  form.dataset.sent = '1';
  for (const button of form.querySelectorAll('button[type="submit"]'))
    button.setAttribute('aria-disabled', 'true');
});
for (const button of document.querySelectorAll('[data-print]'))
  button.addEventListener('click', () => window.print());
