// The hotline form: an address chosen from the standard-address ledger's results (htmx puts
// them under the search box) fills the address and the grid, and pins the point on the map
// (events.js listens for "wangge:point" on the form).
(function () {
  "use strict";
  var form = document.querySelector("form.report-form");
  if (!form) return;
  form.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-address-pick]");
    if (!pick) return;
    form.querySelector("[name=address]").value = pick.dataset.address;
    form.querySelector("[name=grid_code]").value = pick.dataset.grid;
    var lon = parseFloat(pick.dataset.lon), lat = parseFloat(pick.dataset.lat);
    if (!isNaN(lon) && !isNaN(lat)) {
      form.dispatchEvent(new CustomEvent("wangge:point", { detail: { lon: lon, lat: lat, label: pick.dataset.address } }));
    }
    var results = document.getElementById("address-results");
    if (results) {
      while (results.firstChild) results.removeChild(results.firstChild);
      var chosen = document.createElement("p");
      chosen.className = "note";
      chosen.dataset.testid = "address-chosen";
      chosen.textContent = pick.dataset.address;
      results.appendChild(chosen);
    }
  });
})();
