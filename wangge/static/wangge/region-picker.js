// The cascading region picker: 街道 → 村（社区） → 网格 beside a region filter box.
// Markup: <input name="grid" data-region-picker data-regions-url="/api/v1/regions"
//          data-label-street="…" data-label-community="…" data-label-grid="…" data-label-any="…">
// The regions come from the scoped regions API (only what the reader may see); choosing one
// writes its code into the box, which stays for typing a name or a code. Text nodes only.
(function () {
  "use strict";
  var LEVELS = ["street", "community", "grid"];
  var CODE_LENGTH = { street: 9, community: 12, grid: 15 };

  function load(url, params) {
    var query = Object.keys(params).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
    return fetch(url + "?" + query + "&limit=500", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (page) { return page.items || []; })
      .catch(function () { return []; });
  }

  function fill(select, items, anyLabel, chosen) {
    while (select.firstChild) select.removeChild(select.firstChild);
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = anyLabel;
    select.appendChild(blank);
    items.forEach(function (r) {
      var option = document.createElement("option");
      option.value = r.code;
      option.textContent = r.name;
      if (r.code === chosen) option.selected = true;
      select.appendChild(option);
    });
    select.disabled = items.length === 0;
  }

  function setUp(input) {
    var url = input.dataset.regionsUrl;
    var anyLabel = input.dataset.labelAny || "—";
    var box = document.createElement("span");
    box.className = "region-picker";
    var selects = {};
    LEVELS.forEach(function (level) {
      var label = document.createElement("label");
      label.textContent = input.dataset["label" + level.charAt(0).toUpperCase() + level.slice(1)] || level;
      var select = document.createElement("select");
      select.dataset.level = level;
      select.disabled = true;
      label.appendChild(select);
      box.appendChild(label);
      selects[level] = { label: label, select: select };
    });
    var field = input.closest("label") || input;
    field.parentNode.insertBefore(box, field);
    var start = input.value && /^\d+$/.test(input.value) ? input.value : "";

    function below(level) { return LEVELS.slice(LEVELS.indexOf(level) + 1); }

    function clearBelow(level) {
      below(level).forEach(function (l) { fill(selects[l].select, [], anyLabel, ""); });
    }

    function open(level, parent, chosen) {
      // The children of `parent` (or the top of the reader's view when none) at `level`.
      var params = parent ? { parent: parent } : { level: level };
      return load(url, params).then(function (items) {
        items = items.filter(function (r) { return r.level === level; });
        fill(selects[level].select, items, anyLabel, chosen);
        return items;
      });
    }

    LEVELS.forEach(function (level) {
      selects[level].select.addEventListener("change", function () {
        var code = this.value;
        var i = LEVELS.indexOf(level);
        var parent = "";
        for (var j = i - 1; j >= 0 && !parent; j--) parent = selects[LEVELS[j]].select.value;
        input.value = code || parent;
        clearBelow(level);
        var next = below(level)[0];
        if (code && next) open(next, code, "");
      });
    });

    // The first level the reader sees (a grid worker sees no street), then the chosen path.
    (function topDown(i) {
      if (i >= LEVELS.length) return;
      var level = LEVELS[i];
      open(level, "", start.slice(0, CODE_LENGTH[level])).then(function (items) {
        if (!items.length) {
          // Nothing at this level for this reader (a grid worker sees no street): drop it.
          selects[level].label.remove();
          topDown(i + 1);
          return;
        }
        (function walk(k) {
          var current = LEVELS[k];
          var code = start.length >= CODE_LENGTH[current] ? start.slice(0, CODE_LENGTH[current]) : "";
          var next = LEVELS[k + 1];
          if (!code || !next) return;
          open(next, code, start.slice(0, CODE_LENGTH[next])).then(function () { walk(k + 1); });
        })(i);
      });
    })(0);
  }

  document.querySelectorAll("input[data-region-picker]").forEach(setUp);
})();
