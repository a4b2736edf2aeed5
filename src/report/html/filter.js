(function () {
  "use strict";
  // The filters work without this script (the style sheet hides the rows that are not
  // selected); it adds the count, folds away the sections the filters emptied, opens a
  // check's explanation a link points at, and unfolds everything for printing.
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var select = document.getElementById("filter-check");
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
