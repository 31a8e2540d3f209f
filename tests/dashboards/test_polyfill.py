"""Dash's polyfill address answers regenerator-runtime alone (dashboards/polyfill.py): the page's
script tag is Dash's own, what it gets is the 25 KB runtime the bundles call, kept by the browser
for a year under its fingerprinted address and, like every bundle, only for those logged in. That
the pages still run on it is checked in Chromium by every browser test (no console error)."""

from __future__ import annotations

import re

from dashboards.polyfill import RUNTIME
from tests.web import login
from tracker.models import Role


def test_the_pages_polyfill_is_the_regenerator_runtime(client, factory) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/_dash-component-suites/dash/deps/polyfill@7.12.1.min.js")
    assert anonymous.status_code == 401
    user = factory.user(Role.CITY_STAFF, "长治")
    assert login(client, user.username).status_code == 302
    page = client.get("/pilots").get_data(as_text=True)
    (address,) = re.findall(r'<script src="(/_dash-component-suites/dash/deps/polyfill@7[^"]+)"', page)
    assert f"m{int(RUNTIME.stat().st_mtime)}." in address  # named by the runtime's own file
    answer = client.get(address)
    assert answer.status_code == 200 and answer.mimetype == "application/javascript"
    assert answer.data == RUNTIME.read_bytes() and len(answer.data) < 30_000
    assert b"regeneratorRuntime = runtime" in answer.data
    assert "max-age=31536000" in answer.headers["Cache-Control"]
    assert b"core-js" not in answer.data
