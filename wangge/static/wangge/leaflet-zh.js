// Leaflet's own words in the page's language: the zoom buttons' tooltips ("Zoom in" / "Zoom
// out" otherwise). The translated strings come as data attributes of this script's tag.
(function () {
  "use strict";
  var texts = document.currentScript && document.currentScript.dataset;
  if (!window.L || !texts) return;
  L.Control.Zoom.prototype.options.zoomInTitle = texts.zoomIn || "+";
  L.Control.Zoom.prototype.options.zoomOutTitle = texts.zoomOut || "−";
})();
