/* Campaign pages (desktop): the new-campaign form's defaults from the template, the countdown
   of a task's hold, and the map of grids coloured by progress — drawn from our own grid
   boundaries (no online tiles). Data reaches the page as text, never as HTML. */
(function () {
  "use strict";

  /* New campaign: choosing a template ticks its kinds and shows its spot-check share. */
  var form = document.getElementById("campaign-form");
  if (form) {
    var kinds = form.querySelectorAll("input[name=kinds]");
    var share = form.querySelector("input[name=spot_check]");
    var apply = function (radio) {
      var wanted = (radio.dataset.kinds || "").split(",");
      Array.prototype.forEach.call(kinds, function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
      if (share) { share.placeholder = radio.dataset.spotCheck || ""; }
    };
    Array.prototype.forEach.call(form.querySelectorAll("input[name=template]"), function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) { apply(radio); } });
    });
    var checked = form.querySelector("input[name=template]:checked");
    var anyKind = Array.prototype.some.call(kinds, function (box) { return box.checked; });
    if (checked && !anyKind) { apply(checked); }
  }

  /* A task's hold: the time left, as text, updated every 15 seconds. */
  Array.prototype.forEach.call(document.querySelectorAll(".countdown[data-until]"), function (el) {
    var until = Date.parse(el.dataset.until);
    if (isNaN(until)) { return; }
    var tick = function () {
      var left = Math.floor((until - Date.now()) / 60000);
      if (left < 0) {
        el.textContent = el.dataset.expired || "";
        el.classList.add("expired");
        return false;
      }
      el.textContent = (el.dataset.left || "")
        .replace("%(h)s", String(Math.floor(left / 60)))
        .replace("%(m)s", String(left % 60));
      return true;
    };
    if (tick()) {
      var timer = window.setInterval(function () { if (!tick()) { window.clearInterval(timer); } }, 15000);
    }
  });

  /* The progress map. */
  var el = document.getElementById("campaign-map");
  if (!el || !window.L || !el.dataset.source) { return; }
  var grids = {};
  try { grids = JSON.parse(el.dataset.grids || "{}"); } catch (e) { grids = {}; }
  var colours = { none: "#bdbdbd", p0: "#d73027", p25: "#fc8d59", p50: "#fee08b", p75: "#91cf60", p100: "#1a9850" };
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  var label = el.dataset.taskLabel || "";
  function text(s) { return document.createTextNode(s); }
  fetch(el.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var features = data.features.filter(function (f) { return Object.prototype.hasOwnProperty.call(grids, f.properties.code); });
      var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
        style: function (f) {
          var g = grids[f.properties.code];
          return { color: "#555", weight: 1, fillColor: colours[g["class"]] || colours.none, fillOpacity: 0.7 };
        },
        onEachFeature: function (f, l) {
          var g = grids[f.properties.code];
          l.bindTooltip(function () {
            return text(g.name + " · " + label + " " + g.verified + " / " + g.total + "（" + g.percent + "%）");
          }, { sticky: true });
        }
      }).addTo(map);
      el.dataset.loaded = String(features.length);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); }
    })
    .catch(function (err) { el.dataset.error = String(err); el.textContent = "⚠ " + err; });
})();
