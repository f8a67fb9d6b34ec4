// The region tree's ▸/▾ toggles: htmx loads a node's children on the first click
// (hx-trigger="click once"); every click flips the node open or closed and says so.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".tree .toggle");
    if (!button) return;
    var list = button.parentElement.querySelector(":scope > ul");
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "▾" : "▸";
    button.setAttribute("aria-label", open ? button.dataset.closeLabel : button.dataset.openLabel);
    if (list) list.hidden = !open;
  });
})();
