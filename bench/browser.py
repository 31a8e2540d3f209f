"""First load of every page of the menu in headless Chromium, on the demo data (docs/PERFORMANCE.md).

Run:  .venv/bin/python -m bench.browser [--runs 10] [--accounts admin,lingdao] [--pages /,/summary]

Builds the demo in a temporary SQLite file, serves it on 127.0.0.1 (one threaded werkzeug server in
this process) and logs in once per demo role (admin, sheng, lingdao, changzhi). Each role's pages
are the entries of its own menu (read from the menu bar, so a page is timed for the roles who use
it), and a pilot's page (试点详情, reached from the lists). For each page and run it opens the page in
a fresh tab and times from navigation until the page is usable, by the page's own clock
(performance.now(), checked every animation frame): the Dash renderer has no callback in flight, the
page's content is there, every chart on it is drawn and every grid on it has its rows (or says it
has none), and the element named below for the page, if any, is present. Prints the median and p95
in ms per page. Target: every page's median <= 1.0 s. Uses the system Chromium, as the browser tests
do.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

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
TARGET_MS = 1000.0
ACCOUNTS = ("admin", "sheng", "lingdao", "changzhi")
PROVINCE = frozenset({"admin", "sheng", "lingdao"})
# What shows a page is ready beyond the generic test (its main chart, its list's rows).
READY_ELEMENT = {
    "/": "#ov-scatter .scatterlayer .trace",
    "/pilots": "#registry-grid .ag-row",
    "/pilot": ".js-plotly-plot .main-svg",
    "/summary": ".js-plotly-plot .main-svg",
}
CITY_READY = "#city-standing"  # a city's workspace (the province's users choose a city there first)
READY = """ready => {
  const content = document.querySelector('#_pages_content');
  if (!content || !content.children.length) return false;
  if (document.querySelector('._dash-loading-callback, [data-dash-is-loading=true]')) return false;
  if (ready && !document.querySelector(ready)) return false;
  const shown = e => e.offsetParent !== null;
  if ([...content.querySelectorAll('.dash-graph')].filter(shown).some(g => !g.querySelector('.main-svg'))) return false;
  if ([...content.querySelectorAll('.ag-root-wrapper')].filter(shown)
      .some(g => !g.querySelector('.ag-row, .ag-overlay-no-rows-center, .ag-overlay-no-rows-wrapper'))) return false;
  return performance.now();
}"""


def _menu(context: Any, base: str) -> list[str]:
    """The addresses of the menu's entries, as the logged-in role sees them, and a pilot's page."""
    page = context.new_page()
    page.goto(f"{base}/pilots")
    page.wait_for_selector("#registry-grid .ag-row a")
    paths = page.eval_on_selector_all(".navbar .nav-link", "links => links.map(a => a.getAttribute('href'))")
    pilot = page.eval_on_selector("#registry-grid .ag-row a", "a => a.getAttribute('href')")
    page.close()
    return [*dict.fromkeys(paths), pilot]


def _time(context: Any, url: str, ready: str | None, runs: int) -> list[float]:
    samples = []
    for _ in range(runs + 1):  # the first run warms the browser's cache of the bundles
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None
        )
        page.goto(url, wait_until="commit")
        # Measured by the page's own clock, from the start of navigation until the page is usable
        # (checked on every animation frame), so the harness's round trips do not count.
        done = page.wait_for_function(READY, arg=ready, polling="raf", timeout=30_000)
        samples.append(float(done.json_value()))
        assert not errors, (url, errors)
        page.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--accounts", default=",".join(ACCOUNTS), help="the roles, comma-separated")
    parser.add_argument("--pages", default="", help="only these paths (comma-separated; default: each menu)")
    args = parser.parse_args()
    wanted = {p for p in args.pages.split(",") if p}
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    initialise(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory, actor="bench") as session:
        build_demo(session)
    server = make_server(
        "127.0.0.1", 0, create_app(make_settings(url, folder), factory).server, threaded=True
    )
    logging.disable(logging.INFO)  # the request log of every file would drown the figures
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    over: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for account in args.accounts.split(","):
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", account)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#shell-user")
            page.wait_for_load_state("networkidle")
            page.close()
            for path in _menu(context, base):
                if wanted and path.split("?")[0] not in wanted:
                    continue
                plain = path.split("?")[0]
                ready = (
                    CITY_READY if plain == "/city" and account not in PROVINCE else READY_ELEMENT.get(plain)
                )
                samples = _time(context, f"{base}{path}", ready, args.runs)
                warm = samples[1:]
                median = statistics.median(warm)
                if median > TARGET_MS:
                    over.append(f"{account} {path}")
                print(f"{account:9} {path:14} first {samples[0]:7.0f} ms   median {median:6.0f} ms   "
                      f"p95 {p95(warm):6.0f} ms   (n={len(warm)})", flush=True)  # fmt: skip
            context.close()
        browser.close()
    server.shutdown()
    print(
        f"target: every median <= {TARGET_MS:.0f} ms: "
        + ("met" if not over else "over on " + ", ".join(over))
    )


if __name__ == "__main__":
    main()
