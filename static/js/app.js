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
