/* The grid roles' start page: their grid's numbers from the dashboard's summary (as text). */
(function () {
  "use strict";
  var box = document.querySelector("[data-grid-panel]");
  if (!box) { return; }
  fetch(box.dataset.gridPanel, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(function (s) {
      var values = {
        open: [String(s.now.open), s.now.open_href],
        overdue: [String(s.now.overdue), s.now.overdue_href],
        on_time_rate: [s.period.on_time_rate === null ? "—" : (Math.round(s.period.on_time_rate * 1000) / 10) + "%", s.period.closed_href]
      };
      box.querySelectorAll("a[data-key]").forEach(function (a) {
        var v = values[a.dataset.key];
        if (v) { a.textContent = v[0]; a.href = v[1]; }
      });
      box.dataset.loaded = "1";
    })
    .catch(function () { box.dataset.error = "1"; });
})();
