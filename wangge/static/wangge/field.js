/* Campaigns on the phone: 我的任务 (countdown of a held task, renew, take) and working a task
   without signal.

   - The task package is downloaded once and stored in IndexedDB ("wangge-field") encrypted with
     AES-GCM (WebCrypto). The key comes from the server per login session (/campaigns/device-key,
     kept in the Django session, never in the browser's storage): it is held in memory only, so a
     phone that lost its session cannot read what it stored; data sealed under an earlier
     session's key is wiped.
   - Edits (confirm, correct, retire, add, a visit outcome, a hazard finding) are queued in the
     same store, encrypted too, each with a random key (the server's idempotency key), the
     device's random id and its next sequence number; they are sent as one batch when the
     network returns or on "发送", and each result is shown (applied / conflict / rejected with
     the message / held back for an earlier edit). A retry sends the same keys: never twice.
   - Logging out and submitting the task wipe what is stored; the service worker (/sw.js) wipes
     too when the login page is opened.
   Everything from the package or the server reaches the page as text (textContent, Option). */
(function () {
  "use strict";
  var root = document.getElementById("field");
  if (!root) { return; }
  var texts = {};
  var tpl = document.getElementById("field-texts");
  if (tpl) {
    Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-k]"), function (n) {
      texts[n.dataset.k] = n.textContent;
    });
  }
  function t(k) { return texts[k] || k; }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (a) {
      if (a === "className") { n.className = attrs[a]; } else if (a.indexOf("data-") === 0) { n.setAttribute(a, attrs[a]); } else { n[a] = attrs[a]; }
    });
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }
  function csrf() {
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body || {})
    });
  }
  function randomHex(n) {
    var a = new Uint8Array(n);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* ---- the offline banner (the service worker is registered by shell.js on every page) ---- */
  var banner = root.querySelector("[data-offline]");
  function showOnline() { if (banner) { banner.hidden = navigator.onLine; } }
  window.addEventListener("online", showOnline);
  window.addEventListener("offline", showOnline);
  showOnline();

  /* ---- the store ---- */
  var DB = "wangge-field";
  var dbPromise = null;
  function db() {
    if (!window.indexedDB) { return Promise.reject(new Error("no IndexedDB")); }
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB, 1);
        req.onupgradeneeded = function () {
          var d = req.result;
          d.createObjectStore("meta", { keyPath: "k" });
          d.createObjectStore("packages", { keyPath: "task" });
          d.createObjectStore("queue", { keyPath: "key" }).createIndex("task", "task");
        };
        req.onsuccess = function () {
          var d = req.result;
          d.onversionchange = function () { d.close(); dbPromise = null; };  /* let a wipe proceed */
          resolve(d);
        };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(stores, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var x = d.transaction(stores, mode);
        var out = fn(x);
        x.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        x.onerror = function () { reject(x.error); };
        x.onabort = function () { reject(x.error); };
      });
    });
  }
  function wipeAll() {
    var closing = dbPromise ? dbPromise.then(function (d) { d.close(); }) : Promise.resolve();
    dbPromise = null;
    return closing.then(function () {
      return new Promise(function (resolve) {
        var req = indexedDB.deleteDatabase(DB);
        req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
      });
    }).then(function () {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("wipe");
      }
    });
  }
  /* Logging out wipes the phone's store before the form goes. */
  Array.prototype.forEach.call(document.querySelectorAll("form.logout"), function (form) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.wiped) { return; }
      e.preventDefault();
      var go = function () { form.dataset.wiped = "1"; form.submit(); };
      wipeAll().then(go, go);
    });
  });

  /* ---- 我的任务: countdowns, renew, take ---- */
  function left(until) {
    var ms = new Date(until).getTime() - Date.now();
    if (!(ms > 0)) { return t("expired"); }
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + " " + t("h") + " " : "") + m + " " + t("min") + " " + (s % 60) + " " + t("s");
  }
  var clocks = root.querySelectorAll("[data-until]");
  function tick() {
    Array.prototype.forEach.call(clocks, function (c) { c.textContent = left(c.dataset.until); });
  }
  if (clocks.length) { tick(); window.setInterval(tick, 1000); }
  function act(id, action, button) {
    button.disabled = true;
    postJSON("/api/v1/campaign-tasks/" + encodeURIComponent(id) + "/actions/" + action, {})
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.message || r.status); }
          window.location.reload();
        });
      })
      .catch(function (err) { button.disabled = false; button.title = String(err.message || err); });
  }
  Array.prototype.forEach.call(root.querySelectorAll("[data-renew]"), function (b) {
    b.addEventListener("click", function () { act(b.dataset.renew, "renew", b); });
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-take]"), function (b) {
    b.addEventListener("click", function () { act(b.dataset.take, "take", b); });
  });

  if (root.dataset.page !== "work") { return; }

  /* ---- the work page ---- */
  var taskId = Number(root.dataset.task);
  var status = root.querySelector("[data-status]");
  var worklist = root.querySelector("[data-worklist]");
  var queueBox = root.querySelector("[data-queue]");
  var queueList = root.querySelector("[data-queue-list]");
  var addsBox = root.querySelector("[data-adds]");
  var progress = root.querySelector("[data-progress]");
  var key = null, keyId = null, pkg = null;
  var queue = {};  /* key → {key, seq, state, edit, message, label} (decrypted, in memory) */
  var cards = {};  /* kind:id → the record's card */
  var sending = false;
  function say(text) { status.textContent = text || ""; }

  function fromBase64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function getKey() {
    if (key) { return Promise.resolve(key); }
    return fetch(root.dataset.key, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok || r.redirected) { throw new Error("key " + r.status); } return r.json(); })
      .then(function (d) {
        keyId = d.id;
        return window.crypto.subtle.importKey("raw", fromBase64(d.key), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
      })
      .then(function (k) { key = k; root.dataset.keyReady = "1"; return k; });
  }
  function seal(value) {
    var iv = new Uint8Array(12);
    window.crypto.getRandomValues(iv);
    var plain = new TextEncoder().encode(JSON.stringify(value));
    return window.crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, plain)
      .then(function (data) { return { kid: keyId, iv: iv, data: data }; });
  }
  function unseal(box) {
    if (!box || box.kid !== keyId) { return Promise.reject(new Error("stale")); }
    return window.crypto.subtle.decrypt({ name: "AES-GCM", iv: box.iv }, key, box.data)
      .then(function (buf) { return JSON.parse(new TextDecoder().decode(buf)); });
  }

  /* The device's random id and its sequence numbers (not personal: kept in the clear). */
  function nextSeq() {
    var out = {};
    return tx(["meta"], "readwrite", function (x) {
      var meta = x.objectStore("meta");
      var dev = meta.get("device");
      dev.onsuccess = function () {
        out.device = dev.result ? dev.result.v : "d-" + randomHex(8);
        if (!dev.result) { meta.put({ k: "device", v: out.device }); }
        var seq = meta.get("seq");
        seq.onsuccess = function () {
          out.seq = (seq.result ? seq.result.v : 0) + 1;
          meta.put({ k: "seq", v: out.seq });
        };
      };
    }).then(function () { return out; });
  }

  function storeItem(item) {
    return seal({ edit: item.edit, message: item.message || "", label: item.label }).then(function (box) {
      return tx(["queue"], "readwrite", function (x) {
        x.objectStore("queue").put({ key: item.key, task: taskId, seq: item.seq, state: item.state, box: box });
      });
    });
  }
  function loadQueue() {
    return tx(["queue"], "readonly", function (x) { return x.objectStore("queue").index("task").getAll(taskId); })
      .then(function (rows) {
        return Promise.all(rows.map(function (row) {
          return unseal(row.box).then(function (v) {
            queue[row.key] = { key: row.key, seq: row.seq, state: row.state, edit: v.edit, message: v.message, label: v.label };
          });
        }));
      });
  }
  function wipeTask() {
    return tx(["packages", "queue"], "readwrite", function (x) {
      x.objectStore("packages")["delete"](taskId);
      var q = x.objectStore("queue");
      var req = q.index("task").getAllKeys(taskId);
      req.onsuccess = function () { req.result.forEach(function (k) { q["delete"](k); }); };
    });
  }

  /* ---- the queue on the page ---- */
  var FINAL = { applied: 1, conflict: 1, rejected: 1, resolved: 1 };
  function renderQueue() {
    var items = Object.keys(queue).map(function (k) { return queue[k]; }).sort(function (a, b) { return a.seq - b.seq; });
    queueBox.hidden = items.length === 0;
    queueList.textContent = "";
    items.forEach(function (it) {
      var text = it.label + " — " + t(it.state === "failed" ? "queued" : it.state);
      if (it.message) { text += " " + it.message; }
      queueList.appendChild(el("li", { "data-key": it.key, "data-state": it.state }, text));
      var card = it.edit.record_id ? cards[it.edit.kind + ":" + it.edit.record_id] : null;
      if (card) {
        card.dataset.local = it.state;
        card.querySelector(".rec-state").textContent = t("op_" + it.edit.op) + " · " + t(it.state === "failed" ? "queued" : it.state);
      }
    });
    var waiting = items.filter(function (it) { return !FINAL[it.state]; }).length;
    root.dataset.waiting = String(waiting);
    queueBox.querySelector("[data-send]").disabled = waiting === 0;
  }

  function queueEdit(op, rec, values, label, extra) {
    if (!key) { say(t("need_online")); return Promise.resolve(); }
    return nextSeq().then(function (n) {
      var edit = {
        key: randomHex(16),
        op: op,
        kind: rec ? rec.kind : extra.kind,
        record_id: rec ? rec.id : null,
        base_version: rec ? rec.version : null,
        ref: (extra && extra.ref) || "",
        device: n.device,
        seq: n.seq,
        made_at: new Date().toISOString(),
        values: values || {}
      };
      var item = { key: edit.key, seq: n.seq, state: "queued", edit: edit, label: label, message: "" };
      queue[edit.key] = item;
      return storeItem(item).then(function () {
        renderQueue();
        if (navigator.onLine) { send(); }
      });
    });
  }

  function send() {
    if (sending) { return Promise.resolve(); }
    var items = Object.keys(queue).map(function (k) { return queue[k]; })
      .filter(function (it) { return !FINAL[it.state]; })
      .sort(function (a, b) { return a.seq - b.seq; });
    if (!items.length) { return Promise.resolve(); }
    sending = true;
    root.dataset.sending = "1";
    items.forEach(function (it) { it.state = "sending"; });
    renderQueue();
    return postJSON(root.dataset.edits, { edits: items.map(function (it) { return it.edit; }) })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.message || String(r.status)); }
          return body;
        });
      })
      .then(function (body) {
        var saves = body.results.map(function (res) {
          var it = queue[res.key];
          if (!it) { return null; }
          it.state = res.status;
          it.message = res.status === "rejected" ? (res.message || res.code || "") : "";
          if (res.record_id && !it.edit.record_id) { it.message = ""; }
          return storeItem(it);
        });
        return Promise.all(saves);
      })
      .catch(function (err) {
        items.forEach(function (it) { if (it.state === "sending") { it.state = "failed"; } });
        if (navigator.onLine) { say(t("failed") + " " + (err.message || err)); }
      })
      .then(function () {
        sending = false;
        delete root.dataset.sending;
        renderQueue();
      });
  }
  queueBox.querySelector("[data-send]").addEventListener("click", function () { send(); });
  window.addEventListener("online", function () { send(); });

  /* ---- forms built from the package's fields ---- */
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }
  function input(f, value, placeholder) {
    var n;
    if (f.widget === "select") {
      n = el("select", { name: f.key });
      n.appendChild(new Option("", ""));
      f.choices.forEach(function (c) { n.appendChild(new Option(c.label, c.value, false, c.value === value)); });
    } else if (f.widget === "tags") {
      n = el("span", { className: "tags", "data-tags": f.key });
      var have = Array.isArray(value) ? value : [];
      f.choices.forEach(function (c) {
        var box = el("input", { type: "checkbox", value: c.value, checked: have.indexOf(c.value) >= 0 });
        var l = el("label", { className: "tag" });
        l.appendChild(box);
        l.appendChild(document.createTextNode(" " + c.label));
        n.appendChild(l);
      });
    } else if (f.widget === "checkbox") {
      n = el("input", { type: "checkbox", name: f.key, checked: !!value });
    } else {
      var type = f.widget === "date" ? "date" : (f.widget === "number" || f.widget === "decimal") ? "number" : "text";
      n = el("input", { type: type, name: f.key, value: value === null || value === undefined ? "" : String(value) });
      if (type === "number") { n.step = "any"; }
      if (placeholder) { n.placeholder = placeholder; }
    }
    return n;
  }
  function readField(form, f) {
    if (f.widget === "tags") {
      var span = form.querySelector("[data-tags='" + f.key + "']");
      return Array.prototype.filter.call(span.querySelectorAll("input"), function (b) { return b.checked; })
        .map(function (b) { return b.value; });
    }
    var n = form.elements[f.key];
    if (f.widget === "checkbox") { return n.checked; }
    return n.value.trim();
  }
  function same(a, b) {
    if (Array.isArray(a) || Array.isArray(b)) { return JSON.stringify((a || []).slice().sort()) === JSON.stringify((b || []).slice().sort()); }
    if (typeof a === "boolean" || typeof b === "boolean") { return !!a === !!b; }
    return String(a === null || a === undefined ? "" : a) === String(b === null || b === undefined ? "" : b);
  }
  /* A form under a record (or the add bar): one at a time; the same button again closes it. */
  function formShell(host, type, onSave) {
    var old = host.querySelector("form");
    if (old) { old.remove(); if (old.dataset.type === type) { return null; } }
    var form = el("form", { className: "rec-form", "data-type": type });
    form.addEventListener("submit", function (e) { e.preventDefault(); onSave(form); });
    host.appendChild(form);
    return form;
  }
  function finish(form) {
    var buttons = el("div", { className: "rec-actions" });
    buttons.appendChild(el("button", { type: "submit", "data-save": "1" }, t("save")));
    var cancel = el("button", { type: "button" }, t("cancel"));
    cancel.addEventListener("click", function () { form.remove(); });
    buttons.appendChild(cancel);
    form.appendChild(buttons);
  }
  function labelled(text, control, hint) {
    var l = el("label", {}, text);
    l.appendChild(control);
    if (hint) { l.appendChild(el("span", { className: "hint" }, hint)); }
    return l;
  }
  function correctForm(rec, card) {
    var fields = (pkg.fields[rec.kind] || []);
    var form = formShell(card, "correct", function (f) {
      var changed = {};
      fields.forEach(function (fd) {
        var v = readField(f, fd);
        if (fd.masked) { if (v) { changed[fd.key] = v; } } else if (!same(v, rec.values[fd.key])) { changed[fd.key] = v; }
      });
      f.remove();
      if (Object.keys(changed).length) { queueEdit("correct", rec, { fields: changed }, t("op_correct") + " " + rec.title); }
    });
    if (!form) { return; }
    fields.forEach(function (fd) {
      var shown = fd.masked ? (rec.masked[fd.key] || (fd.key === "birth_date" ? rec.masked.birth_year : "") || "") : "";
      form.appendChild(labelled(fd.label, input(fd, fd.masked ? "" : rec.values[fd.key], shown), fd.masked ? t("typed_anew") : ""));
    });
    finish(form);
  }
  function retireForm(rec, card) {
    var form = formShell(card, "retire", function (f) {
      var values = { reason: f.elements.reason.value, on: f.elements.on.value, note: f.elements.note.value.trim() };
      f.remove();
      queueEdit("retire", rec, values, t("op_retire") + " " + rec.title);
    });
    if (!form) { return; }
    var reason = el("select", { name: "reason", required: true });
    (pkg.retire_reasons[rec.kind] || []).forEach(function (r) { reason.appendChild(new Option(r.label, r.value)); });
    form.appendChild(labelled(t("reason"), reason));
    form.appendChild(labelled(t("on"), el("input", { type: "date", name: "on", value: today(), required: true })));
    form.appendChild(labelled(t("note"), el("input", { type: "text", name: "note", maxLength: 200 })));
    finish(form);
  }
  function findingForm(rec, card) {
    var form = formShell(card, "finding", function (f) {
      var values = { category: f.elements.category.value, title: f.elements.title.value.trim(), description: f.elements.description.value.trim() };
      f.remove();
      queueEdit("finding", rec, values, t("op_finding") + " " + rec.title);
    });
    if (!form) { return; }
    var cat = el("select", { name: "category", required: true });
    var options = document.getElementById("finding-categories");
    if (options) { Array.prototype.forEach.call(options.content.querySelectorAll("option"), function (o) { cat.appendChild(new Option(o.textContent, o.value)); }); }
    form.appendChild(labelled(t("category"), cat));
    form.appendChild(labelled(t("title"), el("input", { type: "text", name: "title", maxLength: 100, required: true })));
    form.appendChild(labelled(t("description"), el("textarea", { name: "description", maxLength: 4000 })));
    finish(form);
  }
  function addForm(kind, host, label) {
    var fields = (pkg.fields[kind] || []);
    var form = formShell(host, "add-" + kind, function (f) {
      var values = { fields: {} };
      fields.forEach(function (fd) {
        var v = readField(f, fd);
        if (v !== "" && !(Array.isArray(v) && !v.length) && v !== false) { values.fields[fd.key] = v; }
      });
      if (f.elements.room_code && f.elements.room_code.value) { values.room_code = f.elements.room_code.value; }
      f.remove();
      queueEdit("add", null, values, t("op_add") + " " + (values.fields.name || label), { kind: kind, ref: "new-" + randomHex(6) });
    });
    if (!form) { return; }
    form.dataset.kind = kind;
    fields.forEach(function (fd) { form.appendChild(labelled(fd.label, input(fd, "", ""))); });
    if (kind !== "thing") {
      var room = el("select", { name: "room_code" });
      room.appendChild(new Option(t("none"), ""));
      var seen = {};
      pkg.records.forEach(function (r) {
        var p = r.place || {};
        if (p.room_code && !seen[p.room_code]) {
          seen[p.room_code] = 1;
          room.appendChild(new Option([p.estate, p.building, p.unit, p.room].filter(Boolean).join(" "), p.room_code));
        }
      });
      form.appendChild(labelled(t("room"), room));
    }
    finish(form);
  }

  /* ---- the worklist: estate → building → unit → room → household → person ---- */
  var EDITABLE = { person: 1, organisation: 1, thing: 1, room: 1 };
  var ADDABLE = { person: 1, organisation: 1, thing: 1 };
  var FINDABLE = { organisation: 1, thing: 1, room: 1 };
  function statusLabel(value) {
    var s = (pkg.statuses || []).filter(function (x) { return x.value === value; })[0];
    return s ? s.label : value;
  }
  function card(rec, member) {
    var c = el("div", { className: "rec" + (member ? " member" : ""), "data-kind": rec.kind, "data-id": String(rec.id) });
    var head = el("div", { className: "rec-title" }, rec.title);
    head.appendChild(el("span", { className: "rec-state badge" }, statusLabel(rec.status)));
    c.appendChild(head);
    if (rec.subtitle) { c.appendChild(el("div", { className: "rec-sub" }, rec.subtitle)); }
    var actions = el("div", { className: "rec-actions" });
    function button(name, text, fn) {
      var b = el("button", { type: "button", "data-op": name }, text);
      b.addEventListener("click", fn);
      actions.appendChild(b);
    }
    var work = root.dataset.work === "1";
    if (work && !rec.retired) {
      button("confirm", t("confirm"), function () { queueEdit("confirm", rec, {}, t("op_confirm") + " " + rec.title); });
      if (EDITABLE[rec.kind] && (pkg.fields[rec.kind] || []).length) { button("correct", t("correct"), function () { correctForm(rec, c); }); }
      if ((pkg.retire_reasons[rec.kind] || []).length) { button("retire", t("retire"), function () { retireForm(rec, c); }); }
      if (rec.kind === "household" && pkg.campaign.visits) {
        pkg.outcomes.forEach(function (o) {
          button("visit-" + o.value, o.label, function () { queueEdit("visit", rec, { outcome: o.value }, t("op_visit") + " " + rec.title + " " + o.label); });
        });
      }
      if (FINDABLE[rec.kind] && pkg.campaign.findings) { button("finding", t("finding"), function () { findingForm(rec, c); }); }
    }
    c.appendChild(actions);
    cards[rec.kind + ":" + rec.id] = c;
    return c;
  }
  function render() {
    worklist.textContent = "";
    cards = {};
    var households = {};
    pkg.records.forEach(function (r) { if (r.kind === "household") { households[r.id] = { rec: r, members: [] }; } });
    var groups = [], byKey = {};
    function group(place) {
      var p = place || {};
      var k = [p.estate || "", p.building || "", p.unit || "", p.room || ""].join("|");
      if (!byKey[k]) { byKey[k] = { place: p, items: [] }; groups.push(byKey[k]); }
      return byKey[k];
    }
    pkg.records.forEach(function (r) {
      if (r.kind === "person" && r.household && households[r.household]) { households[r.household].members.push(r); return; }
      group(r.place).items.push(r);
    });
    var last = {};
    groups.forEach(function (g) {
      var p = g.place;
      if ((p.estate || "") !== last.estate) { worklist.appendChild(el("h2", {}, p.estate || t("estate_none"))); last = { estate: p.estate || "" }; }
      if (p.building && p.building !== last.building) { worklist.appendChild(el("h3", {}, p.building)); last.building = p.building; }
      if (p.unit || p.room) { worklist.appendChild(el("h4", {}, [p.unit ? p.unit + t("unit") : "", p.room || ""].filter(Boolean).join(" · "))); }
      g.items.forEach(function (r) {
        worklist.appendChild(card(r, false));
        if (r.kind === "household") { households[r.id].members.forEach(function (m) { worklist.appendChild(card(m, true)); }); }
      });
    });
    addsBox.textContent = "";
    if (root.dataset.work === "1") {
      pkg.campaign.kinds.filter(function (k) { return ADDABLE[k]; }).forEach(function (kind) {
        var label = t("add_" + kind);
        var b = el("button", { type: "button", "data-add": kind }, "+ " + label);
        b.addEventListener("click", function () { addForm(kind, addsBox, label); });
        addsBox.appendChild(b);
      });
      addsBox.hidden = false;
    }
    var pending = pkg.records.filter(function (r) { return r.status === "pending"; }).length;
    progress.textContent = t("downloaded") + " · " + pending + " / " + pkg.records.length;
    root.dataset.records = String(pkg.records.length);
    renderQueue();
  }

  function download() {
    say(t("downloading"));
    return getKey()
      .then(function () { return fetch(root.dataset.package, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } }); })
      .then(function (r) {
        return r.json().then(function (body) { if (!r.ok) { throw new Error(body.message || r.status); } return body; });
      })
      .then(function (body) {
        pkg = body;
        return seal(body).then(function (box) {
          return tx(["packages"], "readwrite", function (x) { x.objectStore("packages").put({ task: taskId, box: box }); });
        });
      })
      .then(function () { say(""); render(); root.dataset.ready = "1"; })
      .catch(function (err) { say(navigator.onLine ? t("download_failed") + " " + (err.message || err) : t("need_online")); });
  }
  root.querySelector("[data-download]").addEventListener("click", function () { download(); });

  function start() {
    getKey().then(function () {
      return tx(["packages"], "readonly", function (x) { return x.objectStore("packages").get(taskId); });
    }).then(function (row) {
      if (!row) { return download(); }
      return unseal(row.box).then(function (body) {
        pkg = body;
        return loadQueue().then(function () { render(); root.dataset.ready = "1"; });
      }, function () {
        /* Sealed under an earlier session's key: unreadable, so wiped; fetch afresh. */
        return wipeAll().then(download);
      });
    }).then(function () {
      if (navigator.onLine) { send(); }
    }).catch(function () {
      say(t("need_online"));
    });
  }

  root.querySelector("[data-submit-task]").addEventListener("click", function (e) {
    var b = e.currentTarget;
    b.disabled = true;
    send().then(function () {
      if (Number(root.dataset.waiting || "0") > 0) { throw new Error(t("send_first")); }
      return postJSON(root.dataset.submit, {});
    }).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) { throw new Error(body.message || r.status); } return body; });
    }).then(function () {
      return wipeTask();
    }).then(function () {
      queue = {};
      pkg = null;
      worklist.textContent = "";
      addsBox.textContent = "";
      queueBox.hidden = true;
      root.dataset.submitted = "1";
      say(t("submitted"));
    }).catch(function (err) {
      b.disabled = false;
      say(t("submit_failed") + " " + (err.message || err));
    });
  });

  start();
})();
