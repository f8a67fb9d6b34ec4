/* Maps drawn from our own grid boundaries: no online tiles unless WANGGE_TILE_URL names an
   intranet tile server. Used by the map page (data-source) and the grid page (data-boundary). */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  var tiles = el.dataset.tiles;
  if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
  var style = { color: "#b3261e", weight: 1.2, fillColor: "#f6d7a7", fillOpacity: 0.35 };
  var highlight = { weight: 3, fillOpacity: 0.6 };
  /* Names come from imports (grids, things, building addresses): they go into the page as text
     nodes, never as HTML — a Leaflet tooltip given a string sets innerHTML. */
  function text(s) { return document.createTextNode(s); }

  function fit(layer) {
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); }
  }

  if (el.dataset.boundary && el.dataset.boundary !== "null") {
    var shape = L.geoJSON(JSON.parse(el.dataset.boundary), { style: style }).addTo(map);
    fit(shape);
    return;
  }
  if (!el.dataset.source) { return; }
  var detail = el.dataset.detail;
  fetch(el.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) {
          return f.properties.kind === "dedicated" ? Object.assign({}, style, { fillColor: "#9ecae1" }) : style;
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(function () { return text(f.properties.name + " " + f.properties.code); }, { sticky: true });
          l.on("mouseover", function () { l.setStyle(highlight); });
          l.on("mouseout", function () { layer.resetStyle(l); });
          l.on("click", function () { window.location.href = detail.replace("CODE", encodeURIComponent(f.properties.code)); });
        }
      }).addTo(map);
      el.dataset.loaded = String(data.features.length);
      fit(layer);
      if (el.dataset.points) {
        fetch(el.dataset.points, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (pts) {
            L.geoJSON(pts, {
              pointToLayer: function (f, latlng) {
                var building = f.properties.layer === "building";
                return L.circleMarker(latlng, { radius: building ? 4 : 5, color: building ? "#1f4e79" : "#2e7d32", weight: 1, fillOpacity: 0.8 });
              },
              onEachFeature: function (f, l) {
                l.bindTooltip(function () { return text(f.properties.name + " " + f.properties.code); });
              }
            }).addTo(map);
            el.dataset.points_loaded = String(pts.features.length);
          });
      }
    })
    .catch(function (err) { el.dataset.error = String(err); el.textContent = "⚠ " + err; });
})();
