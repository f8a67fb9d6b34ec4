/* Maps drawn from our own grid boundaries (basemap: the intranet tile server or the district's
   own tile file, regions/basemap.py). The map page (data-source): grids with street and
   community outlines, labels where they fit, a legend, layer toggles and the buildings and
   things (data-points); the grid page (data-boundary): one outline. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L || !window.WanggeMap) { return; }
  var W = window.WanggeMap;
  var t = W.texts("map-texts");
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  W.basemap(map, el.dataset.tiles);
  var BASIC = "#f6d7a7", DEDICATED = "#9ecae1";
  var style = { color: "#b3261e", weight: 1.2, fillColor: BASIC, fillOpacity: 0.35 };
  var highlight = { weight: 3, fillOpacity: 0.6 };
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
      var grids = L.geoJSON(data, {
        style: function (f) {
          return f.properties.kind === "dedicated" ? Object.assign({}, style, { fillColor: DEDICATED }) : style;
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(function () { return text(f.properties.name + " " + f.properties.code); }, { sticky: true });
          l.on("mouseover", function () { l.setStyle(highlight); });
          l.on("mouseout", function () { grids.resetStyle(l); });
          l.on("click", function () { window.location.href = detail.replace("CODE", encodeURIComponent(f.properties.code)); });
        }
      }).addTo(map);
      el.dataset.loaded = String(data.features.length);
      fit(grids);
      var streets = W.outlines(map, el.dataset.source, "street");
      var communities = W.outlines(map, el.dataset.source, "community");
      var groups = { grid: W.labels(map, data.features, "grid") };
      var labels = L.layerGroup([groups.grid]);
      var points = L.layerGroup();
      var entries = [
        { key: "grids", text: t.grids, layer: grids },
        { key: "communities", text: t.communities, layer: communities.layer },
        { key: "streets", text: t.streets, layer: streets.layer },
        { key: "labels", text: t.labels, layer: labels }
      ];
      var legendItems = [
        { swatch: { fill: BASIC, line: "#b3261e" }, text: t.basic },
        { swatch: { fill: DEDICATED, line: "#b3261e" }, text: t.dedicated },
        { swatch: { line: "#5f6368", dash: true }, text: t.community_line },
        { swatch: { line: "#3c4043", thick: true }, text: t.street_line }
      ];
      var refit = null;
      Promise.all([streets.ready, communities.ready]).then(function (levels) {
        groups.street = W.labels(map, levels[0], "street");
        groups.community = W.labels(map, levels[1], "community");
        labels.addLayer(groups.street);
        labels.addLayer(groups.community);
        refit = W.fitLabels(map, groups);
        el.dataset.labels = String(levels[0].length + levels[1].length + data.features.length);
      }).catch(function () { refit = W.fitLabels(map, groups); });
      if (el.dataset.points) {
        entries.push({ key: "points", text: t.points, layer: points });
        legendItems.push({ swatch: { fill: "#1f4e79", dot: true }, text: t.building });
        legendItems.push({ swatch: { fill: "#2e7d32", dot: true }, text: t.thing });
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
            }).addTo(points);
            el.dataset.points_loaded = String(pts.features.length);
          });
      }
      W.toggles(map, entries, t.layers);
      W.legend(map, legendItems, t.legend);
      el.dataset.legend = String(legendItems.length);
      if (refit) { refit(); }
    })
    .catch(function (err) { el.dataset.error = String(err); el.textContent = "⚠ " + err; });
})();
