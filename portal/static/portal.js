/* Small enhancements on every page; everything works without them. Loaded with `defer` (no inline script,
   so the Content-Security-Policy keeps script-src 'self'). */
(function () {
  "use strict";

  // After a failed save the error summary takes the focus, so keyboard and screen-reader users start there.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  // Tables stack into cards on a phone: each cell carries its column's name (shown by portal.css).
  labelTables(document);

  function labelTables(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var headings = table.querySelectorAll("thead th");
      if (!headings.length) return;
      var names = Array.prototype.map.call(headings, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (names[index] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[index]);
        });
      });
      table.classList.add("stack");
    });
  }

  window.portalLabelTables = labelTables;
})();
