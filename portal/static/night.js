/* The election-night board updates itself from night.json (the same data the page was made from, formatted
   by the server). Without this script the page still works: it has a refresh link. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.fetch) return;
  var SVG = "http://www.w3.org/2000/svg";
  var url = board.getAttribute("data-url");
  var seconds = Math.max(1, parseFloat(board.getAttribute("data-seconds")) || 15);
  var texts = document.getElementById("board-texts").dataset;
  var errorBox = document.getElementById("board-error");
  document.getElementById("board-live").hidden = false;

  function el(name, attributes, text) {
    var node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function replaceChildren(parent, children) {
    while (parent.firstChild) parent.removeChild(parent.firstChild);
    children.forEach(function (child) { parent.appendChild(child); });
  }

  function alert(kind, data, extra) {
    if (!data.names.length) return null;
    var box = el("div", { "class": "gov-message notice" + (kind === "silent" ? " notice-error" : ""), "data-type": "subtle",
      "data-color": kind === "silent" ? "error" : "warning", "data-alert": kind });
    if (kind === "silent") box.setAttribute("role", "alert");
    var p = el("p");
    p.appendChild(el("strong", {}, data.title));
    p.appendChild(document.createTextNode(" " + data.names.join(", ") + "." + (extra ? " " + extra : "")));
    box.appendChild(p);
    return box;
  }

  function row(outlet) {
    var tr = el("tr");
    tr.appendChild(el("th", { scope: "row" }, outlet.name));
    var state = el("td");
    state.appendChild(el("span", { "class": "state state-" + outlet.state }, outlet.state_label));
    tr.appendChild(state);
    tr.appendChild(el("td", { "class": "num" }, outlet.rate));
    var activity = el("td");
    var spark = svg("svg", { "class": "spark", viewBox: "0 0 120 28", role: "img", "aria-label": outlet.activity_label });
    spark.appendChild(svg("polyline", { fill: "none", stroke: "currentColor", "stroke-width": "1.5", points: outlet.activity }));
    activity.appendChild(spark);
    tr.appendChild(activity);
    var cell = el("td");
    var list = el("ul");
    outlet.addresses.forEach(function (address) {
      var li = el("li");
      li.appendChild(el("code", {}, address.address));
      li.appendChild(document.createTextNode(" (" + address.kind + "): " +
        (address.last_seen ? address.last_seen + ", " + address.requests : texts.never)));
      if (address.silent) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("strong", {}, texts.silent)); }
      list.appendChild(li);
    });
    cell.appendChild(list);
    tr.appendChild(cell);
    return tr;
  }

  function render(data) {
    var asOf = document.getElementById("board-as-of");
    asOf.textContent = data.as_of;
    asOf.setAttribute("datetime", data.as_of_iso);
    var phase = document.getElementById("board-phase");
    phase.textContent = data.phase.label;
    phase.className = "phase phase-" + data.phase.code;
    replaceChildren(document.getElementById("board-counts"), data.counts.map(function (count) {
      var li = el("li", { "data-key": count.key });
      li.appendChild(el("strong", {}, count.value));
      li.appendChild(document.createTextNode(" " + count.label));
      return li;
    }));
    replaceChildren(document.getElementById("board-alerts"),
      [alert("silent", data.silent, texts.none), alert("never", data.never)].filter(Boolean));
    document.getElementById("chart-line").setAttribute("points", data.chart.points);
    var ys = [];
    data.chart.y_ticks.forEach(function (tick) {
      ys.push(svg("line", { "class": "grid", x1: 56, x2: 708, y1: tick[0], y2: tick[0] }));
      ys.push(svg("text", { x: 50, y: tick[0] + 4, "text-anchor": "end" }, tick[1]));
    });
    replaceChildren(document.getElementById("chart-y"), ys);
    var xs = [];
    data.chart.x_ticks.forEach(function (tick) {
      xs.push(svg("line", { "class": "grid", x1: tick[0], x2: tick[0], y1: 210, y2: 216 }));
      xs.push(svg("text", { x: tick[0], y: 230, "text-anchor": "middle" }, tick[1]));
    });
    replaceChildren(document.getElementById("chart-x"), xs);
    document.getElementById("chart-summary").textContent = data.chart.summary;
    var table = document.getElementById("board-table");
    replaceChildren(document.getElementById("board-outlets"), data.outlets.map(row));
    table.hidden = !data.outlets.length;
    document.getElementById("board-empty").hidden = !!data.outlets.length;
    if (window.portalLabelTables) window.portalLabelTables(board);
    board.setAttribute("data-updated", data.as_of_iso);
  }

  function poll() {
    if (document.hidden) { window.setTimeout(poll, seconds * 1000); return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { render(data); errorBox.hidden = true; })
      .catch(function () { errorBox.hidden = false; })
      .then(function () { window.setTimeout(poll, seconds * 1000); });
  }

  window.setTimeout(poll, seconds * 1000);
})();
