/* Draw every plotly figure on the page. Figures arrive as JSON in
   <script type="application/json" class="figure" data-target="ID"> blocks, so the
   Content-Security-Policy can forbid inline scripts entirely.

   plotly.js (1.5 MB) is fetched only once the page has loaded, and only when the page
   has a figure: every figure's numbers are in a table beside it, so the page is read
   at once and the charts follow, instead of a slow phone showing nothing until the
   library has arrived and run. Its URL (versioned, cached a year) comes from this
   script's data-plotly attribute. The charts are drawn one per task, and the mark
   "ceping-charts-drawn" tells the benchmark (bench/overview_load.py) when the last
   one is done. Without JavaScript the tables are all there is. */
(function () {
  "use strict";
  var me = document.currentScript;
  var library = me && me.getAttribute("data-plotly");

  function drawAll() {
    var blocks = Array.prototype.slice.call(document.querySelectorAll("script.figure[type='application/json']"));
    var config = { responsive: true, displaylogo: false, locale: document.documentElement.lang || "zh-CN" };
    function next() {
      var block = blocks.shift();
      if (!block) {
        if (window.performance && performance.mark) { performance.mark("ceping-charts-drawn"); }
        return;
      }
      var target = document.getElementById(block.getAttribute("data-target"));
      if (!target || !window.Plotly) { next(); return; }
      var fig = JSON.parse(block.textContent);
      window.Plotly.newPlot(target, fig.data, fig.layout, config).then(function () { window.setTimeout(next, 0); });
    }
    next();
  }

  function start() {
    if (!document.querySelector("script.figure[type='application/json']")) { return; }
    if (window.Plotly || !library) { drawAll(); return; }
    var script = document.createElement("script");
    script.src = library;
    script.onload = drawAll;
    document.head.appendChild(script);
  }

  if (document.readyState === "complete") { window.setTimeout(start, 0); }
  else { window.addEventListener("load", function () { window.setTimeout(start, 0); }); }
})();
