// Printing: a chart is drawn in pixels for the screen it was opened on, and the browser does not
// redraw it for the paper. Before the page is laid out for printing, each chart's drawing gets a
// viewBox of its own size, so the print styles (tracker.css, @media print) can scale it to the
// width of its column on the page instead of letting it run over its neighbours or the page edge.
(function () {
  "use strict";

  function drawings() {
    return document.querySelectorAll(".js-plotly-plot .svg-container > svg.main-svg");
  }

  function fitCharts() {
    var all = drawings();
    for (var i = 0; i < all.length; i++) {
      var width = all[i].getAttribute("width"), height = all[i].getAttribute("height");
      if (width && height) {
        all[i].setAttribute("viewBox", "0 0 " + width + " " + height);
        all[i].setAttribute("preserveAspectRatio", "xMinYMin meet");
      }
    }
  }

  // Back on the screen the chart is drawn at its own size again (and may be redrawn at another).
  function unfitCharts() {
    var all = drawings();
    for (var i = 0; i < all.length; i++) {
      all[i].removeAttribute("viewBox");
      all[i].removeAttribute("preserveAspectRatio");
    }
  }

  window.addEventListener("beforeprint", fitCharts);
  window.addEventListener("afterprint", unfitCharts);
  var print = window.matchMedia && window.matchMedia("print");
  if (print && print.addEventListener) {  // print emulation, and browsers that switch media first
    print.addEventListener("change", function (event) { (event.matches ? fitCharts : unfitCharts)(); });
  }
})();
