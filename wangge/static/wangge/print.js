/* The notice card's print button: a listener, since the CSP refuses inline handlers. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
