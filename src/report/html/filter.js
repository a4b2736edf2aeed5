(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var select = document.getElementById("filter-check");
  var seen = {};
  rows.forEach(function (r) { seen[r.getAttribute("data-check")] = true; });
  Object.keys(seen).sort().forEach(function (c) {
    var o = document.createElement("option");
    o.value = c;
    o.textContent = c;
    select.appendChild(o);
  });
  var boxes = Array.prototype.slice.call(bar.querySelectorAll("input[type=checkbox]"));
  var count = document.getElementById("filter-count");
  function apply() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var check = select.value;
    var shown = 0;
    rows.forEach(function (r) {
      var keep = on[r.getAttribute("data-status")] &&
        (check === "" || r.getAttribute("data-check") === check);
      r.hidden = !keep;
      if (keep) { shown += 1; }
    });
    document.querySelectorAll("section.subject").forEach(function (s) {
      var all = s.querySelectorAll("tr.finding").length;
      var visible = s.querySelectorAll("tr.finding:not([hidden])").length;
      s.hidden = all > 0 && visible === 0;
    });
    count.textContent = shown + " of " + rows.length + " findings shown";
  }
  bar.addEventListener("change", apply);
  bar.hidden = false;
  apply();
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var t = id && document.getElementById(id);
    if (t && t.tagName === "DETAILS") { t.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
