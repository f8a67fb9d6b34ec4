{% load static %}/* wangge's service worker, served at /sw.js so that its scope is the whole site; registered
   by shell.js on every page of a logged-in user (docs/ui.md, "The phone shell").

   - The app shell (styles, scripts, icons, the manifest) is cached at install: static files
     cache-first.
   - The pages of field work open without signal: 我的任务 and a task's work page (campaigns),
     上报事件 (the event report page) and the start page, network-first (the cached copy when
     offline). So does the outline of the user's grids the report page draws and checks a
     point against (/api/v1/grids.geojson: boundaries, no people).
   - Another page asked for without signal gets a short offline page of our own (with links to
     the pages kept), not the browser's error page.
   - Nothing personal is cached here: a task package and queued edits live in IndexedDB,
     encrypted by field.js; queued reports live in IndexedDB (events.js); other API answers
     pass straight through.
   - Logging out (or landing on the login page) wipes the cached pages and the field store. */
"use strict";
var VERSION = "{% static 'wangge/shell.js' %}|{% static 'wangge/events.js' %}|{% static 'wangge/maplayers.js' %}|{% static 'wangge/field.js' %}|{% static 'wangge/field.css' %}|{% static 'wangge/app.css' %}";
var SHELL = "wangge-shell-" + VERSION.length + "-" + VERSION.split("").reduce(function (h, c) { return (h * 31 + c.charCodeAt(0)) | 0; }, 7);
var PAGES = "wangge-field-pages";
var ASSETS = [
  "{% static 'wangge/shell.js' %}",
  "{% static 'wangge/events.js' %}",
  "{% static 'wangge/maplayers.js' %}",
  "{% static 'wangge/leaflet-zh.js' %}",
  "{% static 'wangge/field.js' %}",
  "{% static 'wangge/field.css' %}",
  "{% static 'wangge/app.css' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'vendor/leaflet/leaflet.js' %}",
  "{% static 'vendor/leaflet/leaflet.css' %}",
  "{% static 'wangge/manifest.webmanifest' %}",
  "{% static 'wangge/icons/icon.svg' %}",
  "{% static 'wangge/icons/icon-192.png' %}",
  "{% static 'wangge/icons/icon-512.png' %}"
];
/* The pages kept for work without signal, and what install fetches ahead. */
var OFFLINE_PAGES = /^\/(campaigns\/my\/(\d+\/)?|events\/report\/)?$/;
var OUTLINE = "/api/v1/grids.geojson";
var AHEAD = ["/", "/campaigns/my/", "/events/report/", OUTLINE];
var TEXTS = {{ texts|safe }};  /* our own translated sentences (views.service_worker), JSON */

function keepCopy(path, response) {
  if (response.ok && !response.redirected) {
    return caches.open(PAGES).then(function (cache) { return cache.put(path, response); });
  }
  return Promise.resolve();
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); })
      .then(function () {
        return Promise.all(AHEAD.map(function (path) {
          return fetch(path, { credentials: "same-origin" })
            .then(function (r) { return keepCopy(path, r); })
            .catch(function () { /* kept on the next visit */ });
        }));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("wangge-shell-") === 0 && n !== SHELL; })
        .map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function wipe() {
  return Promise.all([
    caches.delete(PAGES),
    new Promise(function (resolve) {
      var req = indexedDB.deleteDatabase("wangge-field");
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    })
  ]);
}

function keep(path) {
  if (!OFFLINE_PAGES.test(path)) { return Promise.resolve(); }
  return fetch(path, { credentials: "same-origin" })
    .then(function (r) { return keepCopy(path, r); })
    .catch(function () { /* offline: the next visit keeps it */ });
}

self.addEventListener("message", function (event) {
  if (event.data === "wipe") { event.waitUntil(wipe()); }
  if (event.data && typeof event.data.keep === "string") { event.waitUntil(keep(event.data.keep)); }
});

/* Network first; the kept copy when the network fails. */
function networkFirst(request, path, fallback) {
  return fetch(request).then(function (response) {
    var copy = response.clone();
    keepCopy(path, copy);
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) { return cache.match(path); })
      .then(function (hit) { return hit || fallback(); });
  });
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
}

/* Our own page for a page not kept (static text only: no data, no script). */
function offlinePage() {
  var html = '<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>" + esc(TEXTS.title) + "</title>" +
    '<link rel="stylesheet" href="{% static 'wangge/app.css' %}"></head><body>' +
    '<div class="offline-bar" data-offline-banner>' + esc(TEXTS.title) + "</div>" +
    '<main><h1>' + esc(TEXTS.title) + "</h1><p>" + esc(TEXTS.body) + "</p><ul>" +
    '<li><a href="/events/report/">' + esc(TEXTS.report) + "</a></li>" +
    '<li><a href="/campaigns/my/">' + esc(TEXTS.tasks) + "</a></li>" +
    '<li><a href="/">' + esc(TEXTS.home) + "</a></li></ul></main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === "/accounts/logout/" || (request.mode === "navigate" && url.pathname === "/accounts/login/")) {
    event.waitUntil(wipe());
    return;
  }
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate") {
    if (OFFLINE_PAGES.test(url.pathname)) {
      event.respondWith(networkFirst(request, url.pathname, offlinePage));
    } else {
      event.respondWith(fetch(request).catch(offlinePage));
    }
    return;
  }
  if (url.pathname === OUTLINE && !url.search) {
    event.respondWith(networkFirst(request, OUTLINE, function () { return Response.error(); }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok && ASSETS.indexOf(url.pathname) >= 0) {
            var copy = response.clone();
            caches.open(SHELL).then(function (cache) { cache.put(request, copy); });
          }
          return response;
        });
      })
    );
  }
});
