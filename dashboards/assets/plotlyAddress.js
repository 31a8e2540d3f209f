// dcc.Graph loads plotly.js from window._dashPlotlyJSURL, which Dash's renderer sets to an address
// without fingerprint (asked of the server on every page). The chart pages name it in a preload link
// under its fingerprinted address (kept by the browser for a year): dcc.Graph loads that one, the
// download the preload began, once. Pages without the link keep Dash's address.
(function () {
  var link = document.querySelector('link[rel="preload"][data-plotly]');
  if (!link) {
    return;
  }
  var address = link.href;
  Object.defineProperty(window, '_dashPlotlyJSURL', {
    configurable: true,
    get: function () { return address; },
    set: function () {}
  });
})();
