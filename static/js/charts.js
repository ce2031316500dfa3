// Draws every chart on the page: each <div data-chart="ID"> gets the Plotly figure from the
// <script type="application/json" id="ID"> that the server emitted with json_script.
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  // Figures arrive as plain data (valuestreams/charts/ and the other chart modules); the font is sized
  // for a projector as much as for a laptop.

  // The names written above the bars ("Account Opening & Onboarding · 20 % · 649k EUR") take a
  // smaller font where the chart is too narrow for them (a phone), down to 9 px.
  function fitLabels(el) {
    var right = el.getBoundingClientRect().right, update = {};
    el.querySelectorAll("g.annotation[data-index]").forEach(function (g) {
      var box = g.getBoundingClientRect(), index = g.getAttribute("data-index");
      var note = (el.layout.annotations || [])[index];
      if (!note || box.right <= right + 1 || box.width <= 0) { return; }
      var size = (note.font && note.font.size) || 14;
      var room = right - box.left - 2;
      update["annotations[" + index + "].font.size"] = Math.max(9, Math.floor(size * room / box.width));
    });
    return Object.keys(update).length ? window.Plotly.relayout(el, update) : Promise.resolve();
  }

  function draw(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source || el.dataset.drawing) { return; }
      el.dataset.drawing = "1";
      var figure = JSON.parse(source.textContent);
      var layout = Object.assign({ margin: { t: 24, r: 16, b: 40, l: 56 }, autosize: true,
        font: { family: "system-ui, sans-serif", size: 14 }, paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)" }, figure.layout || {});
      // a figure that needs more room (one row per value stream) says so with layout.height
      if (layout.height) { el.style.height = layout.height + "px"; }
      window.Plotly.newPlot(el, figure.data || [], layout, config).then(function () {
        return fitLabels(el);
      }).then(function () { el.dataset.drawn = "1"; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // htmx swaps in new fragments: draw the charts they bring.
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
