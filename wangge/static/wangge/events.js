/* Events: the event page's map, the location picker (GPS or a tap on the map), and the phone
   page's offline queue. A report is stored on the phone (IndexedDB) with an idempotency key
   made when it is queued, and sent until the server answers; a retry after a lost answer
   returns the event the first attempt created, so a report is never recorded twice. */
(function () {
  "use strict";
  var texts = {};
  var tpl = document.getElementById("queue-texts");
  if (tpl) {
    Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-k]"), function (n) {
      texts[n.dataset.k] = n.textContent;
    });
  }
  function t(k) { return texts[k] || k; }
  /* Text that came from people (titles typed by residents) goes into the page as a text node,
     never as HTML: a Leaflet tooltip given a string sets innerHTML. */
  function text(s) { return document.createTextNode(s); }

  /* ---- maps ---- */
  var el = document.getElementById("map");
  var map = null;
  var marker = null;
  var outline = null;  /* the grids' outline the picker loaded (GeoJSON features) */
  if (el && window.L) {
    map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    var style = { color: "#b3261e", weight: 1.2, fillColor: "#f6d7a7", fillOpacity: 0.3 };
    var lon = parseFloat(el.dataset.lon), lat = parseFloat(el.dataset.lat);
    if (el.dataset.boundary && el.dataset.boundary !== "null") {
      var shape = L.geoJSON(JSON.parse(el.dataset.boundary), { style: style }).addTo(map);
      map.fitBounds(shape.getBounds(), { padding: [12, 12] });
    }
    if (!isNaN(lon) && !isNaN(lat)) {
      marker = L.circleMarker([lat, lon], { radius: 8, color: "#1f4e79", fillOpacity: 0.9 }).addTo(map);
      if (!el.dataset.boundary || el.dataset.boundary === "null") { map.setView([lat, lon], 16); }
    } else if (!el.dataset.boundary || el.dataset.boundary === "null") {
      map.setView([22.55, 113.1], 11);
    }
    if (el.dataset.source) {
      fetch(el.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          var layer = L.geoJSON(data, { style: style, interactive: false }).addTo(map);
          if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
          outline = data.features || [];
          if (el.dataset.focus) {
            /* Opened from a grid's notice card: that grid first. */
            var focus = L.geoJSON({ type: "FeatureCollection", features: outline.filter(function (f) {
              return f.properties && f.properties.code === el.dataset.focus;
            }) });
            if (focus.getBounds().isValid()) { map.fitBounds(focus.getBounds(), { padding: [12, 12] }); el.dataset.focused = el.dataset.focus; }
          }
          if (window.WanggeMap) {
            /* The grids' names where they fit: after GPS the map shows where the point is. */
            var names = window.WanggeMap.labels(map, outline, "grid").addTo(map);
            window.WanggeMap.fitLabels(map, { grid: names });
          }
          el.dataset.loaded = String(outline.length);
          Array.prototype.forEach.call(document.querySelectorAll("form.report-form"), checkPoint);
        })
        .catch(function () { /* the picker still works with GPS */ });
    }
    if (el.dataset.events) {
      fetch(el.dataset.events, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          var detail = el.dataset.detail;
          var layer = L.geoJSON(data, {
            pointToLayer: function (f, latlng) {
              var late = f.properties.overdue;
              return L.circleMarker(latlng, { radius: late ? 7 : 5, color: late ? "#b3261e" : "#e08a00", weight: 1, fillOpacity: 0.85 });
            },
            onEachFeature: function (f, l) {
              l.bindTooltip(function () { return text(f.properties.number + " " + f.properties.title + " · " + f.properties.category); });
              l.on("click", function () { window.location.href = detail.replace("/0/", "/" + f.properties.id + "/"); });
            }
          }).addTo(map);
          el.dataset.eventsLoaded = String(data.features.length);
          if (layer.getBounds().isValid() && !el.dataset.source) { map.fitBounds(layer.getBounds()); }
        })
        .catch(function (err) { el.dataset.error = String(err); });
    }
  }

  /* ---- the point against the grids' outline (a warning: the server decides) ---- */
  function inRing(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }
  function inPolygon(rings, x, y) {
    if (!rings.length || !inRing(rings[0], x, y)) { return false; }
    for (var h = 1; h < rings.length; h += 1) { if (inRing(rings[h], x, y)) { return false; } }
    return true;
  }
  function inGeometry(g, x, y) {
    if (!g) { return false; }
    if (g.type === "Polygon") { return inPolygon(g.coordinates, x, y); }
    if (g.type === "MultiPolygon") { return g.coordinates.some(function (p) { return inPolygon(p, x, y); }); }
    return false;
  }
  /* Whether the point lies in one of the grids the form may report in: the worker's own
     (data-my-grids: codes, a grid or a region above it) or, on the residents' page, any. */
  function pointAllowed(form, x, y) {
    var mine = (form.dataset.myGrids || "").split(" ").filter(Boolean);
    return outline.some(function (f) {
      var code = (f.properties && f.properties.code) || "";
      var ours = !mine.length || mine.some(function (m) { return code.indexOf(m) === 0; });
      return ours && inGeometry(f.geometry, x, y);
    });
  }
  /* The grid under the pin, named while the point is chosen. */
  var mapTexts = window.WanggeMap ? window.WanggeMap.texts("map-texts") : {};
  function nameGrid(form) {
    var box = form.querySelector("[data-grid-name]");
    var lon = parseFloat(form.querySelector("[name=lon]").value);
    var lat = parseFloat(form.querySelector("[name=lat]").value);
    if (!box || outline === null || isNaN(lon) || isNaN(lat)) { return; }
    var hit = null;
    outline.forEach(function (f) { if (!hit && inGeometry(f.geometry, lon, lat)) { hit = f; } });
    box.textContent = hit ? (mapTexts.in_grid || "") + "：" + hit.properties.name : (mapTexts.no_grid || "");
    box.dataset.grid = hit ? hit.properties.code : "";
    box.hidden = false;
  }
  function checkPoint(form) {
    nameGrid(form);
    var warn = form.querySelector("[data-point-warning]");
    var lon = parseFloat(form.querySelector("[name=lon]").value);
    var lat = parseFloat(form.querySelector("[name=lat]").value);
    if (!warn || outline === null || isNaN(lon) || isNaN(lat)) {
      if (warn && isNaN(lon)) { warn.hidden = true; delete form.dataset.outside; }
      return;
    }
    var ok = pointAllowed(form, lon, lat);
    warn.hidden = ok;
    warn.textContent = ok ? "" : t(form.dataset.myGrids ? "outside_mine" : "outside_all");
    if (ok) { delete form.dataset.outside; } else { form.dataset.outside = "1"; }
  }

  /* ---- location picker ---- */
  function setPoint(form, lon, lat, label) {
    form.querySelector("[name=lon]").value = lon.toFixed(7);
    form.querySelector("[name=lat]").value = lat.toFixed(7);
    var where = form.querySelector("[data-where]");
    if (where) { where.textContent = (label ? label + " " : "") + lon.toFixed(5) + ", " + lat.toFixed(5); }
    if (map) {
      if (marker) { marker.setLatLng([lat, lon]); } else {
        marker = L.circleMarker([lat, lon], { radius: 8, color: "#1f4e79", fillOpacity: 0.9 }).addTo(map);
      }
    }
    checkPoint(form);
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.report-form"), function (form) {
    var where = form.querySelector(".where");
    if (where && !form.querySelector("[data-grid-name]")) {
      var named = document.createElement("p");
      named.className = "grid-name";
      named.setAttribute("data-grid-name", "");
      named.setAttribute("aria-live", "polite");
      named.hidden = true;
      where.parentNode.insertBefore(named, where.nextSibling);
    }
    if (where && (form.dataset.myGrids !== undefined || form.dataset.outlineCheck)) {
      var warn = document.createElement("p");
      warn.className = "warning point-warning";
      warn.setAttribute("data-point-warning", "");
      warn.setAttribute("role", "alert");
      warn.hidden = true;
      where.parentNode.insertBefore(warn, where.nextSibling);
    }
    if (map && el.dataset.picker) {
      map.on("click", function (e) { setPoint(form, e.latlng.lng, e.latlng.lat, ""); });
    }
    // A point chosen elsewhere on the form (the hotline's address search): pin it.
    form.addEventListener("wangge:point", function (e) {
      setPoint(form, e.detail.lon, e.detail.lat, e.detail.label || "");
      if (map) { map.setView([e.detail.lat, e.detail.lon], 17); }
    });
    var gps = form.querySelector("[data-gps]");
    if (gps) {
      gps.addEventListener("click", function () {
        if (!navigator.geolocation) { form.querySelector("[data-where]").textContent = t("gps_fail"); return; }
        navigator.geolocation.getCurrentPosition(function (pos) {
          setPoint(form, pos.coords.longitude, pos.coords.latitude, t("gps_ok"));
          if (map) { map.setView([pos.coords.latitude, pos.coords.longitude], 17); }
        }, function () { form.querySelector("[data-where]").textContent = t("gps_fail"); },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }  /* a fresh fix: the worker may have walked on */);
      });
    }
  });

  /* ---- the offline queue (phone page) ---- */
  var form = document.querySelector("form[data-offline-queue]");
  if (!form || !window.indexedDB) { return; }
  var box = document.getElementById("queue");
  var hint = form.querySelector("[data-where]");
  if (hint) { hint.dataset.initial = hint.textContent; }
  /* A fresh key for each load: the page may come from the service worker's copy, whose key
     an earlier report has used already. */
  form.querySelector("[name=idempotency_key]").value = newKey();
  var list = box.querySelector("[data-queue-list]");
  var sending = false;
  var FIELDS = ["category", "title", "description", "address", "crs"];

  function newKey() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function db() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("wangge-reports", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("queue", { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("queue", mode);
        var result = fn(tx.objectStore("queue"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return store("readwrite", function (s) { s.put(item); }); }
  function remove(key) { return store("readwrite", function (s) { s["delete"](key); }); }

  function csrf() {
    var input = form.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function button(label, data, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "small secondary"; b.textContent = label;
    b.setAttribute(data, "");
    b.addEventListener("click", onClick);
    return b;
  }
  /* A report the server refused (outside the worker's grids, an unknown category…) comes back
     into the form to be corrected; reporting it again sends it with the same key (a refused
     report made nothing, so the key is still free). */
  function edit(it) {
    FIELDS.forEach(function (n) {
      var input = form.querySelector("[name=" + n + "]");
      if (input) { input.value = it.fields[n] || (n === "crs" ? "wgs84" : ""); }
    });
    form.querySelector("[name=lon]").value = it.fields.lon !== undefined ? String(it.fields.lon) : "";
    form.querySelector("[name=lat]").value = it.fields.lat !== undefined ? String(it.fields.lat) : "";
    form.querySelector("[name=idempotency_key]").value = it.key;
    form.dataset.editing = it.key;
    var note = form.querySelector("[data-editing-note]");
    if (!note) {
      note = document.createElement("p");
      note.className = "warning";
      note.setAttribute("data-editing-note", "");
      form.insertBefore(note, form.firstChild);
    }
    note.textContent = t("editing") + " " + (it.error || "");
    if (!isNaN(parseFloat(form.querySelector("[name=lon]").value))) {
      setPoint(form, it.fields.lon, it.fields.lat, "");
    }
    form.scrollIntoView({ block: "start" });
  }
  function render() {
    return all().then(function (items) {
      box.hidden = items.length === 0;
      list.textContent = "";
      items.forEach(function (it) {
        var li = document.createElement("li");
        li.dataset.key = it.key;
        li.dataset.state = it.state;
        if (it.code) { li.dataset.code = it.code; }
        var text = it.fields.title || it.fields.category;
        if (it.state === "failed") { text += " — " + t("failed") + " " + (it.error || ""); }
        else { text += " — " + t(it.state === "sending" ? "sending" : "queued"); }
        li.appendChild(document.createTextNode(text));
        if (it.state === "failed") {
          var actions = document.createElement("span");
          actions.className = "queue-actions";
          actions.appendChild(button(t("edit"), "data-edit", function () { edit(it); }));
          actions.appendChild(button(t("delete"), "data-delete", function () {
            remove(it.key).then(function () {
              if (form.dataset.editing === it.key) { delete form.dataset.editing; }
              return render();
            });
          }));
          li.appendChild(actions);
        }
        list.appendChild(li);
      });
    });
  }
  function sendOne(it) {
    var step = it.eventId ? Promise.resolve({ id: it.eventId }) :
      fetch(form.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": it.key, Accept: "application/json" },
        body: JSON.stringify(it.fields)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.status === 200 || r.status === 201) { return body.event; }
          if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
            var err = new Error(body.message || String(r.status)); err.permanent = true; err.code = body.code || ""; throw err;
          }
          throw new Error(String(r.status));
        });
      });
    return step.then(function (event) {
      it.eventId = event.id;
      if (!it.photos || !it.photos.length) { return event; }
      return put(it).then(function () {
        var fd = new FormData();
        it.photos.forEach(function (p, i) { fd.append("files", p, "photo" + i + ".jpg"); });
        return fetch(form.dataset.photosApi.replace("ID", event.id) + "?stage=report", {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() }, body: fd
        }).then(function (r) {
          if (r.status === 201) { return event; }
          if (r.status >= 400 && r.status < 500) { return event; } /* the report itself is in */
          throw new Error(String(r.status));
        });
      });
    });
  }
  function flush() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    return all().then(function (items) {
      var chain = Promise.resolve();
      items.filter(function (it) { return it.state !== "failed"; }).forEach(function (it) {
        chain = chain.then(function () {
          var li = list.querySelector('[data-key="' + it.key + '"]');
          if (li) { li.dataset.state = "sending"; li.textContent = (it.fields.title || it.fields.category) + " — " + t("sending"); }
          return sendOne(it).then(function (event) {
            return remove(it.key).then(function () {
              var done = document.createElement("p");
              done.className = "ok sent";
              done.dataset.eventId = event.id;
              var a = document.createElement("a");
              a.href = form.dataset.detail.replace("/0/", "/" + event.id + "/");
              a.textContent = t("sent") + " " + (event.number || event.id);
              done.appendChild(a);
              form.parentNode.insertBefore(done, form);
            });
          }, function (err) {
            if (err.permanent) { it.state = "failed"; it.error = err.message; it.code = err.code; return put(it); }
            it.tries = (it.tries || 0) + 1;
            return put(it);
          });
        });
      });
      return chain;
    }).then(function () { sending = false; return render(); }, function () { sending = false; return render(); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!form.reportValidity()) { return; }
    var fields = {};
    FIELDS.forEach(function (n) {
      var input = form.querySelector("[name=" + n + "]");
      if (input && input.value) { fields[n] = input.value; }
    });
    ["lon", "lat"].forEach(function (n) {
      var v = form.querySelector("[name=" + n + "]").value;
      if (v) { fields[n] = parseFloat(v); }
    });
    fields.channel = "patrol";
    var photoInput = form.querySelector("input[type=file]");
    var photos = photoInput ? Array.prototype.slice.call(photoInput.files) : [];
    var key = form.querySelector("[name=idempotency_key]").value || newKey();
    var editing = form.dataset.editing === key;
    var kept = editing ? all().then(function (items) {
      var old = items.filter(function (i) { return i.key === key; })[0];
      return old && old.photos && !photos.length ? old.photos : photos;  /* keep its photos */
    }) : Promise.resolve(photos);
    kept.then(function (withPhotos) {
      return put({ key: key, fields: fields, photos: withPhotos, state: "queued", queuedAt: Date.now() });
    })
      .then(function () {
        delete form.dataset.editing;
        var note = form.querySelector("[data-editing-note]");
        if (note) { note.parentNode.removeChild(note); }
        form.reset();
        /* hidden inputs keep their value through reset(): clear the point explicitly, so the
           next report never reuses this one's place */
        form.querySelector("[name=lon]").value = "";
        form.querySelector("[name=lat]").value = "";
        form.querySelector("[name=idempotency_key]").value = newKey();
        var where = form.querySelector("[data-where]");
        if (where) { where.textContent = where.dataset.initial || ""; }
        checkPoint(form);
        if (marker && map) { map.removeLayer(marker); marker = null; }
        return render();
      })
      .then(flush);
  });
  box.querySelector("[data-send-now]").addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.setInterval(flush, 20000);
  render().then(flush);
  form.dataset.queueReady = "1";
})();
