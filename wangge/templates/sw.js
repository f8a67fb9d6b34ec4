{% load static %}/* wangge's service worker, served at /sw.js so that its scope is the whole site.

   - The app shell of the phone's field work (我的任务, a task's work page, their script, styles
     and icons) is cached, so a task opens without signal: pages network-first (the cached copy
     when offline), static files cache-first.
   - Nothing personal is cached here: the task package and the queued edits live in IndexedDB,
     encrypted by field.js with the login session's key; API answers pass straight through.
   - Logging out (or landing on the login page) wipes the cached pages and the field store. */
"use strict";
var VERSION = "{% static 'wangge/field.js' %}|{% static 'wangge/field.css' %}|{% static 'wangge/app.css' %}";
var SHELL = "wangge-shell-" + VERSION.length + "-" + VERSION.split("").reduce(function (h, c) { return (h * 31 + c.charCodeAt(0)) | 0; }, 7);
var PAGES = "wangge-field-pages";
var ASSETS = [
  "{% static 'wangge/field.js' %}",
  "{% static 'wangge/field.css' %}",
  "{% static 'wangge/app.css' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'wangge/manifest.webmanifest' %}",
  "{% static 'wangge/icons/icon.svg' %}",
  "{% static 'wangge/icons/icon-192.png' %}",
  "{% static 'wangge/icons/icon-512.png' %}"
];
var FIELD_PAGES = /^\/campaigns\/my\/(\d+\/)?$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); })
      .then(function () {
        return caches.open(PAGES).then(function (cache) {
          return fetch("/campaigns/my/", { credentials: "same-origin" }).then(function (r) {
            if (r.ok && !r.redirected) { return cache.put("/campaigns/my/", r); }
          }).catch(function () { /* cached on the next visit */ });
        });
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
  if (!FIELD_PAGES.test(path)) { return Promise.resolve(); }
  return fetch(path, { credentials: "same-origin" }).then(function (r) {
    if (r.ok && !r.redirected) {
      return caches.open(PAGES).then(function (cache) { return cache.put(path, r); });
    }
  }).catch(function () { /* offline: the next visit keeps it */ });
}

self.addEventListener("message", function (event) {
  if (event.data === "wipe") { event.waitUntil(wipe()); }
  if (event.data && typeof event.data.keep === "string") { event.waitUntil(keep(event.data.keep)); }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === "/accounts/logout/" || (request.mode === "navigate" && url.pathname === "/accounts/login/")) {
    event.waitUntil(wipe());
    return;
  }
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate" && FIELD_PAGES.test(url.pathname)) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(PAGES).then(function (cache) { cache.put(url.pathname, copy); });
        }
        return response;
      }).catch(function () {
        return caches.open(PAGES).then(function (cache) { return cache.match(url.pathname); })
          .then(function (hit) { return hit || Response.error(); });
      })
    );
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
