// Draws every chart on the page: each <div data-chart="ID"> gets the Plotly figure from the
// <script type="application/json" id="ID"> that the server emitted with json_script.
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  // Figures arrive as plain data (valuestreams/charts/ and the other chart modules); the font is sized
  // for a projector as much as for a laptop.

  function draw(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source || el.dataset.drawn) { return; }
      var figure = JSON.parse(source.textContent);
      var layout = Object.assign({ margin: { t: 24, r: 16, b: 40, l: 56 }, autosize: true,
        font: { family: "system-ui, sans-serif", size: 14 }, paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)" }, figure.layout || {});
      // a figure that needs more room (one row per value stream) says so with layout.height
      if (layout.height) { el.style.height = layout.height + "px"; }
      window.Plotly.newPlot(el, figure.data || [], layout, config);
      el.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // htmx swaps in new fragments: draw the charts they bring.
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
