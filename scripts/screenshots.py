"""Screenshots of the main pages, as each role sees them, for the README (docs/screenshots/).

Run against a running demo (``./scripts/demo`` in another shell):
    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8050] [--out docs/screenshots]
截取各角色主要页面的截图（需先启动演示服务）。Uses the system Chromium, as the browser tests do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
PASSWORD = "Demo-2025-cfp"
# (account, page, file name, an element that shows the page has its data); "account:en" reads in English
SHOTS = [
    ("admin", "/", "overview-province.png", "#ov-total"),
    ("admin:en", "/", "overview-english.png", "#ov-total"),
    ("admin", "/audit", "audit-log.png", ".ag-row"),
    ("admin", "/pilots", "registry.png", ".ag-row"),
    ("admin", "/flags", "flags.png", ".ag-row"),
    ("admin", "/jobs", "jobs.png", ".ag-row"),
    ("changzhi", "/city", "city-workspace.png", "#city-standing"),
    ("changzhi", "/updates", "updates.png", ".ag-row"),
    ("admin", "/updates", "review-queue.png", ".ag-row"),
    ("lingdao", "/summary", "leadership-summary.png", ".js-plotly-plot"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8050")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages: dict[str, Any] = {}
        for account, path, name, ready in SHOTS:
            if account not in pages:
                context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
                page = context.new_page()
                page.goto(f"{args.base}/login")
                page.fill("input[name=username]", account.split(":")[0])
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("#shell-user")
                if account.endswith(":en"):
                    page.goto(f"{args.base}/lang/en")
                    page.wait_for_selector("#shell-user")
                pages[account] = page
            page = pages[account]
            page.goto(f"{args.base}{path}")
            page.wait_for_selector(ready, timeout=20_000)
            page.wait_for_timeout(800)  # charts finish their transitions
            page.screenshot(path=str(args.out / name), full_page=True)
            print(f"{account:9} {path:11} -> {args.out / name}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
