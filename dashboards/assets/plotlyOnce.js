// The chart pages load plotly.js themselves, deferred (it runs once the page is parsed, while the
// layout is fetched) and under its fingerprinted address (kept by the browser for a year): the tag
// marked data-plotly. dcc.Graph takes window.Plotly when it is there and otherwise adds a script of
// its own, which on a slow first visit (the deferred file still arriving) would run a second copy of
// plotly.js under charts the first had drawn. Until the deferred file has run, window.Plotly is
// therefore the promise of it: dcc.Graph waits for that instead (it resolves what it finds), and
// plotly.js's own "window.Plotly = Plotly" puts the library in its place.
(function () {
  var tag = document.querySelector('script[data-plotly]');
  if (!tag || window.Plotly) {
    return;
  }
  var library = null;
  var arrived = new Promise(function (resolve, reject) {
    tag.addEventListener('load', function () { resolve(library); });
    tag.addEventListener('error', reject);
  });
  Object.defineProperty(window, 'Plotly', {
    configurable: true,
    get: function () { return library || arrived; },
    set: function (value) { library = value; }
  });
})();
