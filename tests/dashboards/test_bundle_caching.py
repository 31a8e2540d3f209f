"""The libraries' files are kept by the browser: their answers neither renew the login cookie nor
vary by it (a cookie renewed with every answer made Chromium fetch 2.9 MB of scripts on every page,
issue 22 point 10); the pages' own answers still renew it, and the files stay behind the login."""

from __future__ import annotations

import re

import pytest

from tests.web import login
from tracker.models import Role


def _bundles(client) -> list[str]:  # type: ignore[no-untyped-def]
    """The scripts the logged-in page loads (fingerprinted Dash bundles, /assets files)."""
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'<script src="(/(?:_dash-component-suites|assets)/[^"]+)"', page)


def test_a_bundle_is_cached_by_the_browser_whatever_the_cookie(client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    assert login(client, user.username).status_code == 302
    bundles = _bundles(client)
    assert any("dash_ag_grid" in b for b in bundles) and any(b.startswith("/assets/") for b in bundles)
    for bundle in bundles:
        response = client.get(bundle)
        assert response.status_code == 200, bundle
        assert "Set-Cookie" not in response.headers, bundle
        assert "cookie" not in response.headers.get("Vary", "").lower(), bundle
    grid = next(b for b in bundles if "dash_ag_grid" in b)
    assert "max-age=31536000" in client.get(grid).headers["Cache-Control"]
    layout = client.get("/_dash-layout")  # the pages' answers renew the cookie as before
    assert layout.status_code == 200 and "cfp_session=" in layout.headers.get("Set-Cookie", "")
    assert layout.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/_dash-component-suites/dash_ag_grid/dash_ag_grid.min.js"])
def test_a_bundle_is_still_only_for_those_logged_in(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(path).status_code == 401


def test_assets_and_plotly_are_kept_under_their_fingerprinted_addresses(client, factory) -> None:  # type: ignore[no-untyped-def]
    """Dash names an asset with its file's time (?m=) and the chart pages name plotly.js with its
    version and time: the browser keeps both instead of asking again on every page."""
    user = factory.user(Role.PROVINCE_STAFF)
    assert login(client, user.username).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\?m=[^"]+)"', page)
    assert any(a.startswith("/assets/tracker.css") for a in assets), assets
    for asset in assets:
        assert "max-age=31536000" in client.get(asset).headers["Cache-Control"], asset
    # the same file without its fingerprint (the login page's links) is asked again each time
    assert "max-age" not in client.get("/assets/tracker.css").headers.get("Cache-Control", "")
    # a file kept from before asks again once: the answer "not modified" keeps it from then on
    etag = client.get(assets[0]).headers["ETag"]
    again = client.get(assets[0], headers={"If-None-Match": etag})
    assert again.status_code == 304 and "max-age=31536000" in again.headers["Cache-Control"]
    (plotly,) = re.findall(r'<script defer src="(/_dash-component-suites/plotly/[^"]+)" data-plotly>', page)
    assert re.search(r"plotly\.v\w+m\d+\.min\.js$", plotly), plotly
    answer = client.get(plotly)
    assert answer.status_code == 200 and "max-age=31536000" in answer.headers["Cache-Control"]
    assert not re.findall(r"/_dash-component-suites/plotly/", client.get("/pilots").get_data(as_text=True))
