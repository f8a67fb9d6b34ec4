/* The command centre: headline cards, the map coloured by an indicator, ECharts panels and the
   rankings, all from /api/v1/dashboard/… in the user's scope. Everything that comes from data
   goes into the page as text nodes (never innerHTML); no inline script or style (CSP).
   The big screen (data-mode="screen") refreshes every minute and rotates its panels. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var L10N = JSON.parse(document.getElementById("dash-labels").textContent);
  var screen = root.dataset.mode === "screen";
  var apiBase = root.dataset.api.replace(/summary$/, "");
  var xlsxBase = root.dataset.xlsx.replace(/summary\.xlsx$/, "");
  var params = new URLSearchParams(window.location.search);
  var state = {
    parent: params.get("parent") || "",
    indicator: params.get("indicator") || "",
    since: params.get("since") || root.dataset.since,
    until: params.get("until") || root.dataset.until,
    level: "street"
  };
  var charts = {};
  var map = null, layer = null, labels = null, geo = {};
  var daysSel = document.getElementById("dash-days");
  var indSel = document.getElementById("dash-indicator");
  var rankSel = document.getElementById("dash-rank-level");
  if (state.indicator) { indSel.value = state.indicator; }
  state.indicator = indSel.value;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }
  function pct(v) { return v === null || v === undefined ? "—" : (Math.round(v * 1000) / 10) + "%"; }
  function query(extra) {
    var q = new URLSearchParams({ since: state.since, until: state.until });
    if (state.parent) { q.set("parent", state.parent); }
    Object.keys(extra || {}).forEach(function (k) { if (extra[k] !== "") { q.set(k, extra[k]); } });
    return q.toString();
  }
  function api(name, extra) {
    return fetch(apiBase + name + "?" + query(extra), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }
  function days(n) {
    var until = new Date(root.dataset.until + "T00:00:00");
    var since = new Date(until.getTime() - n * 86400000);
    function iso(d) { return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"); }
    return [iso(since), iso(until)];
  }
  function xlsxLinks() {
    root.querySelectorAll("a[data-xlsx]").forEach(function (a) {
      var panel = a.dataset.xlsx;
      var extra = panel === "map" ? { indicator: state.indicator } : panel === "rankings" ? { level: state.level } : {};
      a.href = xlsxBase + panel + ".xlsx?" + query(extra);
    });
  }
  function pushUrl() {
    if (screen) { return; }
    var q = new URLSearchParams(query({ indicator: state.indicator }));
    window.history.replaceState(null, "", "?" + q.toString());
  }
  function failed(container) {
    clear(container);
    container.appendChild(el("p", "error", L10N.failed));
  }

  /* --- cards --------------------------------------------------------------------------- */
  function card(box, label, value, href, alert) {
    var c = el("a", "dash-card" + (alert ? " alert" : ""));
    c.href = href;
    c.appendChild(el("span", "value", value));
    c.appendChild(el("span", "label", label));
    box.appendChild(c);
  }
  function loadCards() {
    var box = document.getElementById("dash-cards");
    return api("summary").then(function (s) {
      clear(box);
      card(box, L10N.open, s.now.open, s.now.open_href);
      card(box, L10N.overdue, s.now.overdue, s.now.overdue_href, s.now.overdue > 0);
      card(box, L10N.reported, s.period.reported, s.period.reported_href);
      card(box, L10N.close_rate, pct(s.period.close_rate), s.period.closed_href);
      card(box, L10N.on_time_rate + " (" + L10N.target + " " + pct(s.target_on_time_rate) + ")",
        pct(s.period.on_time_rate), s.period.closed_href,
        s.period.on_time_rate !== null && s.period.on_time_rate < s.target_on_time_rate);
    }).catch(function () { failed(box); });
  }

  /* --- breadcrumb ---------------------------------------------------------------------- */
  function loadCrumbs() {
    var nav = document.getElementById("dash-crumbs");
    return api("regions", {}).then(function (d) {
      clear(nav);
      var top = el("a", null, L10N.all);
      top.href = "#";
      top.addEventListener("click", function (ev) { ev.preventDefault(); go(""); });
      nav.appendChild(top);
      d.path.forEach(function (p) {
        nav.appendChild(el("span", "sep", " › "));
        var a = el("a", null, p.name);
        a.href = "#";
        a.addEventListener("click", function (ev) { ev.preventDefault(); go(p.code); });
        nav.appendChild(a);
      });
    }).catch(function () { clear(nav); });
  }
  function go(parent) {
    state.parent = parent;
    pushUrl();
    loadAll();
  }

  /* --- the map ------------------------------------------------------------------------- */
  var PALETTE = {
    high: ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    low: ["#a50f15", "#de2d26", "#fb6a4a", "#fcae91", "#fee5d9"],
    none: ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
  };
  var NO_DATA = "#e0e0e0";
  function classOf(value, breaks) {
    for (var i = 0; i < breaks.length; i += 1) { if (value <= breaks[i]) { return i; } }
    return breaks.length - 1;
  }
  function colours(data) {
    var pal = PALETTE[data.worse] || PALETTE.none;
    var n = data.breaks.length;
    /* Spread the palette over the classes there are (fewer than five for few values). */
    return data.breaks.map(function (_b, i) { return pal[n <= 1 ? pal.length - 1 : Math.round(i * (pal.length - 1) / (n - 1))]; });
  }
  function legend(data, cols) {
    var box = document.getElementById("dash-legend");
    clear(box);
    box.appendChild(el("strong", null, data.label + (data.unit ? "（" + data.unit + "）" : "")));
    var lower = null;
    data.breaks.forEach(function (b, i) {
      var item = el("span", "legend-item");
      var sw = el("span", "swatch");
      sw.style.background = cols[i];
      item.appendChild(sw);
      item.appendChild(el("span", null, (lower === null ? "≤ " + b : lower + " – " + b)));
      lower = b;
      box.appendChild(item);
    });
    var nd = el("span", "legend-item");
    var sw = el("span", "swatch");
    sw.style.background = NO_DATA;
    nd.appendChild(sw);
    nd.appendChild(el("span", null, L10N.no_data));
    box.appendChild(nd);
  }
  function hoverCard(region, data) {
    var d = el("div", "hover-card");
    d.appendChild(el("strong", null, region ? region.name : ""));
    d.appendChild(el("div", null, data.label + "：" + (region && region.value !== null ? region.value + (data.unit || "") : L10N.no_data)));
    if (region && region.detail) {
      Object.keys(region.detail).forEach(function (k) {
        d.appendChild(el("div", "muted", (L10N[k] || k) + "：" + region.detail[k]));
      });
    }
    return d;
  }
  function geometry(level) {
    if (geo[level]) { return Promise.resolve(geo[level]); }
    return fetch(root.dataset.geojson + "?level=" + level, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (g) { geo[level] = g; return g; });
  }
  function loadMap() {
    var box = document.getElementById("dash-map");
    if (!window.L) { return Promise.resolve(); }
    if (!map) {
      map = L.map(box, { zoomSnap: 0.25, attributionControl: false });
      if (root.dataset.tiles) { L.tileLayer(root.dataset.tiles, { maxZoom: 19 }).addTo(map); }
      map.on("zoomend", showLabels);
    }
    return api("map", { indicator: state.indicator }).then(function (data) {
      document.getElementById("dash-map-title").textContent = "· " + data.label;
      var byCode = {};
      data.regions.forEach(function (r) { byCode[r.code] = r; });
      var cols = colours(data);
      legend(data, cols);
      return geometry(data.level).then(function (g) {
        var prefix = state.parent;
        var features = g.features.filter(function (f) { return !prefix || f.properties.code.indexOf(prefix) === 0; });
        if (layer) { map.removeLayer(layer); }
        if (labels) { map.removeLayer(labels); }
        labels = L.layerGroup();
        layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
          style: function (f) {
            var r = byCode[f.properties.code];
            var fill = r && r.value !== null && data.breaks.length ? cols[classOf(r.value, data.breaks)] : NO_DATA;
            return { color: "#555", weight: 1, fillColor: fill, fillOpacity: 0.75 };
          },
          onEachFeature: function (f, l) {
            var r = byCode[f.properties.code] || { name: f.properties.name, value: null, href: "" };
            l.bindTooltip(function () { return hoverCard(r, data); }, { sticky: true });
            l.on("mouseover", function () { l.setStyle({ weight: 3 }); });
            l.on("mouseout", function () { l.setStyle({ weight: 1 }); });
            l.on("click", function () {
              if (data.level !== "grid") { go(f.properties.code); return; }
              if (r.href) { window.location.href = r.href; }
            });
            var centre = l.getBounds().getCenter();
            var name = document.createElement("span");
            name.textContent = f.properties.name;
            labels.addLayer(L.marker(centre, { interactive: false, keyboard: false,
              icon: L.divIcon({ className: "map-label", html: name, iconSize: null }) }));
          }
        }).addTo(map);
        box.dataset.features = String(features.length);
        box.dataset.coloured = String(features.filter(function (f) { var r = byCode[f.properties.code]; return r && r.value !== null; }).length);
        var bounds = layer.getBounds();
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); }
        showLabels();
      });
    }).catch(function () { failed(document.getElementById("dash-legend")); });
  }
  function showLabels() {
    if (!map || !labels || !layer) { return; }
    /* Names where they fit: when a region is at least ~60 px wide on screen. */
    var fits = 0, all = 0;
    layer.eachLayer(function (l) {
      var b = l.getBounds();
      var w = map.latLngToContainerPoint(b.getNorthEast()).x - map.latLngToContainerPoint(b.getSouthWest()).x;
      all += 1;
      if (w >= 60) { fits += 1; }
    });
    if (fits >= all / 2) { labels.addTo(map); } else { map.removeLayer(labels); }
  }

  /* --- charts -------------------------------------------------------------------------- */
  function chart(id) {
    var box = document.getElementById(id);
    if (!window.echarts || !box) { return null; }
    if (!charts[id]) { charts[id] = echarts.init(box, screen ? "dark" : null, { renderer: "canvas" }); }
    return charts[id];
  }
  /* Tooltips as DOM built from text (ECharts accepts an element from a formatter). */
  function tip(params) {
    var list = Array.isArray(params) ? params : [params];
    var d = el("div");
    if (list.length) { d.appendChild(el("strong", null, list[0].name)); }
    list.forEach(function (p) {
      var v = Array.isArray(p.value) ? p.value[1] : p.value;
      d.appendChild(el("div", null, p.seriesName + "：" + (v === null || v === undefined ? "—" : v)));
    });
    return d;
  }
  var base = function () {
    return { backgroundColor: "transparent", tooltip: { trigger: "axis", formatter: tip }, grid: { left: 44, right: 16, top: 36, bottom: 28 }, legend: { top: 0 } };
  };
  function loadTrend() {
    var interval = (new Date(state.until) - new Date(state.since)) / 86400000 > 120 ? "week" : "day";
    return api("trend", { interval: interval }).then(function (t) {
      var x = t.points.map(function (p) { return p.day; });
      var c = chart("chart-trend");
      if (c) {
        c.setOption(Object.assign(base(), {
          xAxis: { type: "category", data: x }, yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: L10N.reported, type: "bar", data: t.points.map(function (p) { return p.reported; }) },
            { name: L10N.closed, type: "bar", data: t.points.map(function (p) { return p.closed; }) },
            { name: L10N.reported + " · " + L10N.avg7, type: "line", smooth: true, showSymbol: false, data: t.points.map(function (p) { return p.reported_avg7; }) },
            { name: L10N.closed + " · " + L10N.avg7, type: "line", smooth: true, showSymbol: false, data: t.points.map(function (p) { return p.closed_avg7; }) }
          ]
        }), true);
      }
      var r = chart("chart-rates");
      if (r) {
        function rate(v) { return v === null ? null : Math.round(v * 1000) / 10; }
        r.setOption(Object.assign(base(), {
          xAxis: { type: "category", data: x }, yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
          series: [
            { name: L10N.close_rate, type: "line", connectNulls: true, data: t.points.map(function (p) { return rate(p.close_rate); }) },
            { name: L10N.on_time_rate, type: "line", connectNulls: true, data: t.points.map(function (p) { return rate(p.on_time_rate); }),
              markLine: { silent: true, symbol: "none", label: { position: "insideEndTop", formatter: L10N.target + " " + rate(t.target_on_time_rate) + "%" },
                data: [{ yAxis: rate(t.target_on_time_rate) }] } }
          ]
        }), true);
      }
    }).catch(function () { failed(document.getElementById("chart-trend")); });
  }
  function barChart(id, names, values, seriesName, onClick) {
    var c = chart(id);
    if (!c) { return; }
    c.setOption(Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tip },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      legend: { show: false },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: names, inverse: true },
      series: [{ name: seriesName, type: "bar", data: values, label: { show: true, position: "right" } }]
    }), true);
    c.off("click");
    if (onClick) { c.on("click", function (p) { onClick(p.dataIndex); }); }
  }
  function loadCategories() {
    return api("categories").then(function (d) {
      var rows = d.categories.slice();
      var names = rows.map(function (r) { return r.name; });
      var values = rows.map(function (r) { return r.reported; });
      if (d.other) { names.push(L10N.rest); values.push(d.other); }
      barChart("chart-categories", names, values, L10N.events, function (i) { if (rows[i]) { window.location.href = rows[i].href; } });
    }).catch(function () { failed(document.getElementById("chart-categories")); });
  }
  function loadChannels() {
    return api("channels").then(function (d) {
      var c = chart("chart-channels");
      if (!c) { return; }
      c.setOption({
        backgroundColor: "transparent",
        tooltip: { trigger: "item", formatter: function (p) { return tip({ name: p.name, seriesName: L10N.events, value: p.value }); } },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], name: L10N.events,
          data: d.channels.map(function (r) { return { name: r.name, value: r.reported }; }) }]
      }, true);
    }).catch(function () { failed(document.getElementById("chart-channels")); });
  }
  function loadDepartments() {
    return api("departments").then(function (d) {
      barChart("chart-departments", d.departments.map(function (r) { return r.name; }),
        d.departments.map(function (r) { return r.should_close; }), L10N.should_close);
    }).catch(function () { failed(document.getElementById("chart-departments")); });
  }
  function loadAgeing() {
    return api("ageing").then(function (d) {
      barChart("chart-ageing", d.buckets.map(function (b) { return b.label; }),
        d.buckets.map(function (b) { return b.count; }), L10N.open,
        function (i) { window.location.href = d.buckets[i].href; });
    }).catch(function () { failed(document.getElementById("chart-ageing")); });
  }

  /* --- rankings ------------------------------------------------------------------------ */
  function loadRankings() {
    var body = document.querySelector("#dash-rankings tbody");
    var level = rankSel.value;
    state.level = level;
    if (state.parent.length >= ({ street: 9, community: 12, grid: 15 })[level]) { level = "grid"; rankSel.value = "grid"; state.level = level; }
    return api("rankings", { level: level }).then(function (d) {
      clear(body);
      if (!d.rows.length) {
        var tr = el("tr"); var td = el("td", null, L10N.nothing); td.colSpan = 8; tr.appendChild(td); body.appendChild(tr);
      }
      d.rows.slice(0, screen ? 12 : 500).forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", null, r.rank));
        var name = el("td"); var a = el("a", null, r.name); a.href = r.href; name.appendChild(a);
        name.appendChild(el("small", "code", r.code)); tr.appendChild(name);
        tr.appendChild(el("td", null, pct(r.on_time_rate)));
        var ch = r.change === null ? "—" : (r.change > 0 ? "↑ " : r.change < 0 ? "↓ " : "") + (Math.round(Math.abs(r.change) * 1000) / 10) + "%";
        tr.appendChild(el("td", r.change > 0 ? "up" : r.change < 0 ? "down" : "", ch));
        tr.appendChild(el("td", null, r.should_close));
        tr.appendChild(el("td", r.overdue ? "alert" : "", r.overdue));
        tr.appendChild(el("td", null, r.returned));
        tr.appendChild(el("td", null, r.avg_handling_hours === null ? "—" : r.avg_handling_hours));
        body.appendChild(tr);
      });
    }).catch(function () { failed(body); });
  }

  function loadAll() {
    xlsxLinks();
    return Promise.all([loadCrumbs(), loadCards(), loadMap(), loadTrend(), loadCategories(), loadChannels(), loadDepartments(), loadAgeing(), loadRankings()])
      .then(function () { root.dataset.loaded = String(Date.now()); });
  }

  daysSel.addEventListener("change", function () {
    var d = days(parseInt(daysSel.value, 10));
    state.since = d[0]; state.until = d[1];
    pushUrl(); loadAll();
  });
  indSel.addEventListener("change", function () { state.indicator = indSel.value; pushUrl(); xlsxLinks(); loadMap(); });
  rankSel.addEventListener("change", function () { xlsxLinks(); loadRankings(); });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    if (map) { map.invalidateSize(); }
  });
  loadAll();

  if (screen) {
    /* The wall: fresh numbers every minute; the side panels take turns every 15 seconds. */
    window.setInterval(loadAll, 60000);
    var panels = Array.prototype.slice.call(root.querySelectorAll(".rotate"));
    var shown = 0;
    var rotate = function () {
      panels.forEach(function (p, i) { p.classList.toggle("hidden-panel", panels.length > 3 && ((i - shown + panels.length) % panels.length) >= 3); });
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      shown = (shown + 1) % panels.length;
    };
    rotate();
    window.setInterval(rotate, 15000);
  }
})();
