"""Dash's polyfill address answered with regenerator-runtime alone (25 KB) instead of @babel/polyfill.

Every page runs Dash's ``polyfill@7.12.1`` (core-js and regenerator-runtime, 100 KB minified) before
anything else: some 60–70 ms of a page's first load on this machine (docs/PERFORMANCE.md). The
browsers Dash 4 runs in (React 18, AG Grid 35: current Chromium, Edge, Firefox, Safari) have every
core-js feature natively; what the bundles still need is the global ``regeneratorRuntime`` that
their Babel output calls (dash-renderer, dcc, dash-table and dash-bootstrap-components load their
lazy components through it). That runtime is regenerator's own file (``regenerator-runtime``
0.14.1, MIT, licence alongside in ``dashboards/vendor/``, copied unchanged from
github.com/facebook/regenerator ``packages/runtime/runtime.js`` at commit cb755fd), answered at the
address Dash puts on the page, so the page itself is as Dash writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, request, send_file
from flask.typing import ResponseReturnValue

RUNTIME = Path(__file__).parent / "vendor" / "regenerator-runtime.js"
# Dash's address for it, fingerprinted (the page's script tag) or plain.
ADDRESS = re.compile(r"^/_dash-component-suites/dash/deps/polyfill@7(?:\.v\w+m\d+)?\.\d+\.\d+(?:\.min)?\.js$")
ONE_YEAR = 365 * 24 * 3600


def runtime_address(page: str) -> str:
    """The page with its polyfill address fingerprinted by the runtime's own file instead of Dash's
    polyfill: a browser that kept Dash's 100 KB file under Dash's address fetches the runtime, and a
    new runtime file gets a new address."""
    stamp = int(RUNTIME.stat().st_mtime)
    return re.sub(r"(/_dash-component-suites/dash/deps/polyfill@7\.v\w+?m)\d+", rf"\g<1>{stamp}", page)


def install_runtime_for_polyfill(server: Flask) -> None:
    def serve_runtime() -> ResponseReturnValue | None:
        if request.method != "GET" or not ADDRESS.match(request.path):
            return None
        fingerprinted = ".v" in request.path
        return send_file(RUNTIME, mimetype="application/javascript", max_age=ONE_YEAR if fingerprinted else 0)

    server.before_request(serve_runtime)
