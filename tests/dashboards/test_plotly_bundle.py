"""Charts run on plotly.js's cartesian bundle (dashboards/plotly_bundle.py): it is what the page
loads, and it holds every trace type the dashboards draw."""

from __future__ import annotations

from typing import Any

from dashboards.plotly_bundle import BUNDLE, TRACES, partial_bundle_applies
from tests.conftest import SQLITE_PASS
from tests.web import call_callback, login
from tracker.demo.province import DEMO_PASSWORD, build_demo

pytestmark = SQLITE_PASS  # the bundle and the figures' trace types, whatever the database


def _trace_types(tree: Any) -> set[str]:
    """The type of every trace in every figure of a rendered tree."""
    found: set[str] = set()
    if isinstance(tree, dict):
        figure = tree.get("figure")
        if isinstance(figure, dict):
            found |= {trace.get("type", "scatter") for trace in figure.get("data", [])}
        for value in tree.values():
            found |= _trace_types(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= _trace_types(value)
    return found


def test_the_page_loads_the_cartesian_bundle_and_it_draws_every_chart(client, app, db) -> None:  # type: ignore[no-untyped-def]
    assert partial_bundle_applies()  # the installed plotly's plotly.js has the bundle's major version
    assert not partial_bundle_applies("99.0.0")
    build_demo(db)
    db.commit()
    login(client, "admin", DEMO_PASSWORD)
    partial = BUNDLE.read_bytes()
    # dcc.Graph loads plotly.js from the plain address; Dash's fingerprinted form, should a page ask for it
    for address in (
        "/_dash-component-suites/plotly/package_data/plotly.min.js",
        "/_dash-component-suites/plotly/package_data/plotly.v7_1_0m1795550037.min.js",
    ):
        answer = client.get(address)
        assert answer.status_code == 200 and answer.data == partial, address
        assert answer.mimetype == "application/javascript"
    assert b"plotly.js (cartesian" in partial[:200] and len(partial) < 2_000_000

    drawn: set[str] = set()
    for path in ("/", "/summary", "/pilot"):
        search = "?id=1" if path == "/pilot" else ""
        answer = call_callback(client, app, "_pages_content",
                               {"_pages_location.pathname": path, "_pages_location.search": search})  # fmt: skip
        drawn |= _trace_types(answer.get_json())
    drawn |= _trace_types(call_callback(client, app, "ov-cards", {}).get_json())
    assert {"bar", "scatter", "pie"} <= drawn  # the figures really were found
    assert drawn <= TRACES, f"not in the cartesian bundle: {drawn - TRACES}"
