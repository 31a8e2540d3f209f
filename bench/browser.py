"""First load of each main page in headless Chromium, on the demo data (docs/PERFORMANCE.md).

Run:  .venv/bin/python -m bench.browser [--runs 10]

Builds the demo in a temporary SQLite file, serves it on 127.0.0.1 (one threaded werkzeug server in
this process), logs in once per role, then for each page and run opens it in a fresh tab and times
from navigation until the page is usable: its figures drawn or its grid filled (the element named
below is present and the Dash renderer has no callback in flight), by the page's own clock
(performance.now(), checked every animation frame). Prints the median and p95 in ms.
Target: the overview interactive in <= 1.5 s. Uses the system Chromium, as the browser tests do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

import tracker.audit.trail  # noqa: F401  (audit hooks)
from bench.national import p95
from dashboards.app import create_app
from tests.conftest import initialise, make_settings
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.demo.province import DEMO_PASSWORD, build_demo

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
# (account, path, what shows the page is ready)
PAGES = [
    ("admin", "/", "#ov-scatter .scatterlayer .trace"),
    ("admin", "/pilots", "#registry-grid .ag-row"),
    ("admin", "/pilot?id=1", ".js-plotly-plot .main-svg"),
    ("changzhi", "/", "#ov-scatter .scatterlayer .trace"),
    ("changzhi", "/city", "#city-standing"),
    ("lingdao", "/summary", ".js-plotly-plot .main-svg"),
]
READY = """ready => document.querySelector(ready) && !document.querySelector('._dash-loading-callback')
    && !document.querySelector('[data-dash-is-loading=true]') ? performance.now() : false"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    initialise(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory, actor="bench") as session:
        build_demo(session)
    server = make_server(
        "127.0.0.1", 0, create_app(make_settings(url, folder), factory).server, threaded=True
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        contexts = {}
        for account in dict.fromkeys(a for a, _p, _r in PAGES):
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", account)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#shell-user")
            page.close()
            contexts[account] = context
        for account, path, ready in PAGES:
            samples = []
            for _ in range(args.runs + 1):  # the first run warms the browser's cache of the bundles
                page = contexts[account].new_page()
                errors: list[str] = []
                page.on(
                    "console",
                    lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None,
                )
                page.goto(f"{base}{path}", wait_until="commit")
                # Measured by the page's own clock, from the start of navigation until the page is usable
                # (checked on every animation frame), so the harness's round trips do not count.
                done = page.wait_for_function(READY, arg=ready, polling="raf", timeout=30_000)
                samples.append(float(done.json_value()))
                assert not errors, errors
                page.close()
            warm = samples[1:]
            print(f"{account:9} {path:12} first {samples[0]:7.0f} ms   median {statistics.median(warm):6.0f} ms   "
                  f"p95 {p95(warm):6.0f} ms   (n={len(warm)})", flush=True)  # fmt: skip
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
