"""Charts run on plotly.js's partial "cartesian" bundle (1.5 MB) instead of the full one (4.8 MB).

Dash loads plotly.js from the plotly package on every page; parsing the full bundle was most of the
overview's first load (docs/PERFORMANCE.md). The charts here use bar, scatter and pie traces only,
which the cartesian bundle holds (with box, contour, heatmap, histogram, image, violin). The file is
plotly's own prebuilt bundle (npm ``plotly.js-cartesian-dist-min``, MIT, licence alongside), shipped
in ``dashboards/vendor/`` so nothing comes from a CDN; it is answered at the address Dash asks for,
fingerprinted or not, so Dash's loading and caching stay as they are.

When the plotly package moves to another major plotly.js version, Dash's own full bundle is served
again until this file is updated (and ``tests/dashboards/test_plotly_bundle.py`` says which is in use).
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, request, send_file
from flask.typing import ResponseReturnValue
from plotly.offline import get_plotlyjs_version

BUNDLE = Path(__file__).parent / "vendor" / "plotly-cartesian.min.js"
BUNDLE_VERSION = "4.1.1"
TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image",
                    "pie", "scatter", "scatterternary", "violin"})  # fmt: skip
# Dash's address for plotly.js, plain (dcc.Graph's lazy load) or fingerprinted (the page's script tag).
PLAIN_ADDRESS = "/_dash-component-suites/plotly/package_data/plotly.min.js"
ADDRESS = re.compile(r"^/_dash-component-suites/plotly/package_data/plotly(?:\.v\w+m\d+)?\.min\.js$")
ONE_YEAR = 365 * 24 * 3600


def fingerprinted_address() -> str:
    """plotly.js under an address that changes with the file (the bundle's version and time), which the
    browser may therefore keep for a year; Dash answers such an address for its own full bundle too."""
    version = (BUNDLE_VERSION if partial_bundle_applies() else get_plotlyjs_version()).replace(".", "_")
    stamp = int(BUNDLE.stat().st_mtime) if partial_bundle_applies() else 0
    return PLAIN_ADDRESS.replace("plotly.min.js", f"plotly.v{version}m{stamp}.min.js")


def partial_bundle_applies(plotly_js_version: str | None = None) -> bool:
    """The bundle stands in for the plotly package's own only within the same major version."""
    version = plotly_js_version or get_plotlyjs_version()
    return version.split(".")[0] == BUNDLE_VERSION.split(".")[0]


def install_partial_plotly(server: Flask) -> None:
    if not partial_bundle_applies():
        server.logger.warning("plotly.js %s: serving Dash's full bundle (the partial one is %s)",
                              get_plotlyjs_version(), BUNDLE_VERSION)  # fmt: skip
        return

    def serve_partial_bundle() -> ResponseReturnValue | None:
        if request.method != "GET" or not ADDRESS.match(request.path):
            return None
        fingerprinted = ".v" in request.path  # its address changes with each version: cache it for long
        return send_file(BUNDLE, mimetype="application/javascript", max_age=ONE_YEAR if fingerprinted else 0)

    server.before_request(serve_partial_bundle)
