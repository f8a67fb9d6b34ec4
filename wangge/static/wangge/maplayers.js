/* What every map shares (docs/ui.md, "Maps"): the basemap (the intranet tile server or the
   district's own tile file, never the internet), region labels that show at the zooms where
   they fit, street and community outlines over the grids, a legend for every colour and layer
   toggles. Names come from imports: they reach the page as text nodes, never as HTML. */
window.WanggeMap = (function () {
  "use strict";
  var LEVELS = ["street", "community", "grid"];
  var OUTLINE = {
    street: { color: "#3c4043", weight: 3, fill: false, interactive: false },
    community: { color: "#5f6368", weight: 1.6, dashArray: "6 4", fill: false, interactive: false }
  };

  function texts(id) {
    var out = {};
    var tpl = document.getElementById(id || "map-texts");
    if (tpl) {
      Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-k]"), function (n) {
        out[n.dataset.k] = n.textContent;
      });
    }
    return out;
  }

  function basemap(map, url) {
    if (url) { L.tileLayer(url, { maxZoom: 19, errorTileUrl: "" }).addTo(map); }
  }

  /* Labels of one level's regions, at each region's label point (the server's point on the
     surface, else the centre of its box). */
  function labels(map, features, level) {
    var group = L.layerGroup();
    features.forEach(function (f) {
      var props = f.properties || {};
      if (!props.name) { return; }
      var shape = L.geoJSON(f);
      var bounds = shape.getBounds();
      if (!bounds.isValid()) { return; }
      var at = props.label ? L.latLng(props.label[1], props.label[0]) : bounds.getCenter();
      var marker = L.marker(at, {
        icon: L.divIcon({ className: "map-label map-label-" + level, html: "", iconSize: null }),
        interactive: false,
        keyboard: false
      });
      marker.wBounds = bounds;
      marker.wName = props.name;
      marker.on("add", function () {
        var node = marker.getElement();
        if (node) { node.textContent = ""; node.appendChild(document.createTextNode(props.name)); }
      });
      group.addLayer(marker);
    });
    group.wLevel = level;
    return group;
  }

  function width(map, bounds) {
    return Math.abs(map.latLngToContainerPoint(bounds.getNorthEast()).x -
      map.latLngToContainerPoint(bounds.getSouthWest()).x);
  }

  /* Each label shows where its region is wide enough for it; a level's labels give way to the
     level below once most of those fit (a street's name is not repeated over its grids'). */
  function fitLabels(map, groups) {
    function fits(marker) { return width(map, marker.wBounds) >= marker.wName.length * 13 + 10; }
    function share(group) {
      var n = 0, ok = 0;
      group.eachLayer(function (m) { n += 1; if (fits(m)) { ok += 1; } });
      return n ? ok / n : 0;
    }
    function update() {
      var below = 0;
      for (var i = LEVELS.length - 1; i >= 0; i -= 1) {
        var group = groups[LEVELS[i]];
        if (!group) { continue; }
        var giveWay = below >= 0.5;
        group.eachLayer(function (m) {
          var node = m.getElement();
          if (node) { node.hidden = giveWay || !fits(m); }
        });
        below = Math.max(below, share(group));
      }
    }
    map.on("zoomend moveend", update);
    Object.keys(groups).forEach(function (k) { if (groups[k]) { groups[k].on("add", update); } });
    update();
    return update;
  }

  function outlines(map, url, level) {
    var layer = L.geoJSON(null, { style: OUTLINE[level], interactive: false });
    var features = null;
    var ready = fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "level=" + level, {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { layer.addData(data); features = data.features || []; return features; });
    return { layer: layer, ready: ready };
  }

  /* A legend: [{swatch: {fill, line, dash, dot}, text}] (text nodes; colours through the CSSOM,
     which the Content-Security-Policy allows). */
  function legend(map, items, title) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      if (title) { var h = L.DomUtil.create("div", "map-legend-title", box); h.appendChild(document.createTextNode(title)); }
      items.forEach(function (item) {
        var row = L.DomUtil.create("div", "map-legend-item", box);
        var sw = L.DomUtil.create("span", "map-swatch" + (item.swatch.dot ? " dot" : ""), row);
        if (item.swatch.fill) { sw.style.background = item.swatch.fill; }
        if (item.swatch.line) { sw.style.borderColor = item.swatch.line; }
        if (item.swatch.dash) { sw.style.borderStyle = "dashed"; }
        if (item.swatch.thick) { sw.style.borderWidth = "3px"; }
        row.appendChild(document.createTextNode(item.text));
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  }

  /* Layer toggles: [{text, layer, on}] as checkboxes (our own control: Leaflet's sets names as
     HTML). */
  function toggles(map, entries, title) {
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "map-toggles");
      box.setAttribute("role", "group");
      if (title) { box.setAttribute("aria-label", title); }
      entries.forEach(function (entry) {
        if (!entry.layer) { return; }
        var label = L.DomUtil.create("label", "map-toggle", box);
        var input = L.DomUtil.create("input", "", label);
        input.type = "checkbox";
        input.checked = entry.on !== false;
        input.dataset.layer = entry.key || "";
        label.appendChild(document.createTextNode(" " + entry.text));
        if (input.checked) { entry.layer.addTo(map); }
        input.addEventListener("change", function () {
          if (input.checked) { entry.layer.addTo(map); } else { map.removeLayer(entry.layer); }
        });
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  }

  return { texts: texts, basemap: basemap, labels: labels, fitLabels: fitLabels, outlines: outlines,
    legend: legend, toggles: toggles, OUTLINE: OUTLINE };
})();
