// Behaviour for the pages, kept out of the templates: the Content-Security-Policy runs no inline script.
"use strict";

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target?.closest("[data-print]")) window.print();
  const copy = target?.closest("[data-copy]");
  if (copy) {
    const field = document.getElementById(copy.dataset.copy);
    if (field) navigator.clipboard?.writeText(field.value).then(() => { copy.textContent = "Copied"; });
  }
  const confirmable = target?.closest("[data-confirm]");
  if (confirmable && !window.confirm(confirmable.dataset.confirm)) event.preventDefault();
});

// A form marked data-submit-once sends once: a second click while the first is on its way does
// nothing (the server also refuses a form token it has already saved).
document.addEventListener("submit", (event) => {
  const form = event.target instanceof HTMLFormElement ? event.target : null;
  if (!form?.hasAttribute("data-submit-once")) return;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
});
// Back to a page from the browser's cache: its forms may send again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-sent]").forEach((form) => { delete form.dataset.sent; });
});
