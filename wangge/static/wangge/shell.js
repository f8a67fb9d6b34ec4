/* The phone shell on every page (docs/ui.md):

   - the top bar's menu button folds the modules and the logout away on a phone, and a list's
     filters fold behind a 筛选 button (open when a filter is set);
   - list tables become cards on a phone: each cell gets its column's name as `data-label`
     (text, from the header: never HTML), which the style sheet shows before the value; a
     table marked `data-keep-table` (or one of numbers) keeps its columns and scrolls;
   - the service worker (/sw.js) is registered for a logged-in user, and asked to keep a copy
     of the page it cannot have fetched itself (the one that registered it);
   - the "离线" banner is shown while the browser is offline (a page with its own banner,
     `[data-offline]`, keeps that one). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* ---- the menu ---- */
  var toggle = document.querySelector("[data-menu-toggle]");
  if (toggle) {
    var header = toggle.closest("header");
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  var texts = {};
  var tpl = document.getElementById("shell-texts");
  if (tpl) {
    Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-k]"), function (n) { texts[n.dataset.k] = n.textContent; });
  }

  /* ---- a list's filters fold away on a phone (the list first), open when one is set ---- */
  if (window.matchMedia && window.matchMedia("(max-width: 640px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("form.filters"), function (form) {
      var set = Array.prototype.some.call(form.querySelectorAll("input:not([type=hidden]), select"), function (f) {
        return f.type === "checkbox" ? f.checked : !!f.value;
      });
      var open = document.createElement("button");
      open.type = "button";
      open.className = "secondary filters-toggle";
      open.textContent = texts.filters || "";
      open.setAttribute("aria-expanded", set ? "true" : "false");
      open.addEventListener("click", function () {
        var folded = form.classList.toggle("folded");
        open.setAttribute("aria-expanded", folded ? "false" : "true");
      });
      if (!set) { form.classList.add("folded"); }
      form.insertBefore(open, form.firstChild);
    });
  }

  /* ---- tables as cards ---- */
  var NUMBER_TABLES = ["numbers", "indicators", "rankings", "briefing-table", "visit-sheet"];
  function keepsColumns(table) {
    if (table.hasAttribute("data-keep-table")) { return true; }
    return NUMBER_TABLES.some(function (c) { return table.classList.contains(c); });
  }
  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head || keepsColumns(table)) { return; }
    var names = [];
    Array.prototype.forEach.call(head.cells, function (th) {
      var span = th.colSpan || 1;
      var name = (th.textContent || "").replace(/[\u25b2\u25bc]/g, "").trim(); /* not the sort arrow */
      for (var i = 0; i < span; i += 1) { names.push(name); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if ((cell.colSpan || 1) > 1) { cell.classList.add("whole"); }
          else if (!cell.hasAttribute("data-label") && names[col]) { cell.setAttribute("data-label", names[col]); }
          col += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("as-cards");
  }
  function labelAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".table-wrap > table"), label);
  }
  labelAll(document);
  /* Tables swapped in by htmx (filters, pages) are labelled too. */
  document.body.addEventListener("htmx:afterSwap", function () { labelAll(document); });

  /* ---- a list's tools: a page size or sort chosen applies at once ---- */
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () { if (select.form) { select.form.submit(); } });
  });

  /* ---- the service worker ---- */
  var sw = document.body.dataset.sw;
  if (sw && "serviceWorker" in navigator) {
    var controlled = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register(sw, { scope: "/" }).catch(function () { /* pages still work online */ });
    navigator.serviceWorker.ready.then(function (reg) {
      if (!controlled && reg.active && navigator.onLine) { reg.active.postMessage({ keep: window.location.pathname }); }
    });
  }

  /* ---- the offline banner ---- */
  var banner = document.querySelector("[data-offline-banner]");
  var own = document.querySelector("[data-offline]");
  function show() {
    var offline = !navigator.onLine;
    document.documentElement.classList.toggle("offline", offline);
    if (banner) { banner.hidden = !offline || !!own; }
  }
  window.addEventListener("online", show);
  window.addEventListener("offline", show);
  show();
})();
