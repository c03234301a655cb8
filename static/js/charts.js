/* Draw every plotly figure on the page. Figures arrive as JSON in
   <script type="application/json" class="figure" data-target="ID"> blocks, so the
   Content-Security-Policy can forbid inline scripts entirely. */
(function () {
  "use strict";
  function draw() {
    var blocks = document.querySelectorAll("script.figure[type='application/json']");
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.getElementById(block.getAttribute("data-target"));
      if (!target || !window.Plotly) { return; }
      var fig = JSON.parse(block.textContent);
      var config = { responsive: true, displaylogo: false, locale: document.documentElement.lang || "zh-CN" };
      window.Plotly.newPlot(target, fig.data, fig.layout, config);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
