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
// The queue: "/" focuses the search, j/k move the selected row, Enter opens it; checkboxes feed
// the bulk bar. The selected row is the one holding focus (its lead link), so the browser's own
// focus ring shows it and screen readers announce it.
(() => {
  const rows = () => Array.from(document.querySelectorAll("[data-queue] tr.lead-row"));
  const typing = (el) => el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));

  function select(row) {
    if (!row) return;
    rows().forEach((r) => r.classList.toggle("selected", r === row));
    row.querySelector("a.lead-name")?.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !document.querySelector("[data-queue]")) return;
    if (event.key === "/" && !typing(event.target)) {
      const search = document.getElementById("queue-search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "Escape" && event.target?.id === "queue-search") { event.target.blur(); return; }
    if (typing(event.target) || (event.key !== "j" && event.key !== "k")) return;
    const all = rows();
    if (!all.length) return;
    const current = all.findIndex((r) => r.classList.contains("selected") && r.contains(document.activeElement));
    const next = current < 0 ? 0 : Math.min(all.length - 1, Math.max(0, current + (event.key === "j" ? 1 : -1)));
    event.preventDefault();
    select(all[next]);
  });
  // Enter on the focused lead link opens it: the browser does that for links already.

  function updateBulk() {
    const bar = document.getElementById("bulk-count");
    if (!bar) return;
    const n = document.querySelectorAll('input[name="ids"][form="bulk-form"]:checked').length;
    bar.textContent = n ? `${n} selected` : "Select rows to act on them";
  }
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach((box) => { box.checked = target.checked; });
    }
    if (target instanceof HTMLInputElement && target.type === "checkbox") updateBulk();
  });
  document.addEventListener("htmx:afterSwap", updateBulk);

  // A filter changed in place (htmx swapped #queue-results): what acts on "the current filters"
  // (export, save this view, use current filters, the bulk bar's way back) follows the new ones.
  document.addEventListener("htmx:afterSwap", () => {
    const query = document.getElementById("queue-query")?.dataset.query;
    if (query === undefined) return;
    document.querySelectorAll("[data-current-query]").forEach((el) => { el.value = query; });
    document.querySelectorAll("[data-current-query-href]").forEach((el) => {
      const url = `${el.dataset.currentQueryHref}?${query}`;
      if (el instanceof HTMLAnchorElement) el.href = url; else el.value = url;
    });
  });

  // A form marked data-once submits once: a second click while the first is on its way does nothing.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-once]")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach((b) => { b.setAttribute("aria-disabled", "true"); });
  });
})();

// The account menu is a <details> (it opens by keyboard and without JavaScript); as a menu it also
// closes on Escape (focus back on its button), on a click elsewhere, and when focus leaves it.
(() => {
  const openMenus = () => document.querySelectorAll("details[data-menu][open]");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    openMenus().forEach((menu) => {
      menu.open = false;
      if (menu.contains(document.activeElement)) menu.querySelector("summary")?.focus();
    });
  });
  document.addEventListener("click", (event) => {
    openMenus().forEach((menu) => { if (!menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener("focusout", (event) => {
    const menu = event.target instanceof Element ? event.target.closest("details[data-menu][open]") : null;
    if (menu && event.relatedTarget instanceof Node && !menu.contains(event.relatedTarget)) menu.open = false;
  });
})();

// An htmx request that fails swaps nothing, so without this the click seems to do nothing: a row
// action on a lead reassigned away since the page loaded (404), a role that changed (403), an
// error on the server (500), the server out of reach. Say what happened, in words, until it is
// closed or the next action succeeds (a badge's GET poll does not count). A short plain-text
// answer (a refused filter's reason) is shown as it is.
(() => {
  const WHY = {
    400: "That was refused.",
    403: "You can no longer do that here: your role or this record's owner may have changed.",
    404: "That is no longer here: it may have moved to someone else or been removed.",
    409: "Someone else changed this first.",
    413: "That is too large to send.",
    429: "Too many requests in a row: wait a moment, then try again.",
  };
  const box = () => document.getElementById("request-error");
  function show(text) {
    const el = box();
    if (!el) return;
    el.querySelector("[data-text]").textContent = `${text} Reload the page to see where things stand.`;
    el.hidden = false;
    // The role here, not in the page's HTML: a page carries role="alert" only when it has an error.
    el.setAttribute("role", "alert");
  }
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("[data-close-error]")) box().hidden = true;
  });
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
    const body = plain ? xhr.responseText.trim() : "";
    show(body && body.length <= 300 ? body : WHY[xhr.status] || (xhr.status >= 500
      ? "Something went wrong on our side."
      : `The request failed (${xhr.status}).`));
  });
  document.addEventListener("htmx:sendError", () => show("Qualify could not be reached: check the connection."));
  document.addEventListener("htmx:afterRequest", (event) => {
    const el = box();
    if (el && event.detail.successful && event.detail.requestConfig?.verb !== "get") el.hidden = true;
  });
})();
