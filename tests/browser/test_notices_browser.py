"""In headless Chromium: the city user who logs in after two returns sees "2条更新被退回" and the
count in the menu bar, opens 通知, follows a notice to its update, and marks everything read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import serve_world
from tests.browser.test_browser import browser, submit_login, watched_page  # noqa: F401  (the browser fixture)
from tests.delivery.test_notices import LATER, returned, submitted
from tests.factories import Factory
from tracker.models import Role

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def build(session: Any) -> None:
        make = Factory(session)
        world = {"pilot": make.pilot("长治", name="示例长治焦炭有限公司碳足迹试点"),
                 "city": make.user(Role.CITY_STAFF, "长治", username="changzhi_staff"),
                 "province": make.user(Role.PROVINCE_STAFF, None, username="sheng_staff")}  # fmt: skip
        first = returned(session, world, submitted(session, world))
        returned(session, world, submitted(session, world, 45, version=first.version, day=dt.date(2025, 12, 8)),
                 reason="仍缺附件", now=LATER)  # fmt: skip

    with serve_world(tmp_path_factory, "live-notices", build) as url:
        yield url


def test_two_returns_are_seen_on_login_followed_and_marked_read(
    live_server: str,
    browser: Any,  # noqa: F811  (the fixture imported above)
    artifacts: Path,
) -> None:
    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/login")
    submit_login(page, "changzhi_staff")
    page.wait_for_selector("#shell-notice-line a")
    assert "2条更新被退回" in page.locator("#shell-notice-line").inner_text()
    assert page.locator("#shell-notice-count").inner_text() == "2"
    page.screenshot(path=str(artifacts / "notices-on-login.png"), full_page=True)
    page.click("#shell-notice-line a")
    page.wait_for_selector("#ntc-grid .ag-center-cols-container .ag-row")
    grid = page.locator("#ntc-grid")
    assert grid.inner_text().count("示例长治焦炭有限公司碳足迹试点的2025年11月调度更新被省级退回") == 2
    assert "仍缺附件" in grid.inner_text()
    links = grid.locator("a", has_text="查看")
    assert links.count() == 2 and links.first.get_attribute("href", timeout=5000).startswith(
        "/update-form?pilot="
    )
    page.screenshot(path=str(artifacts / "notices-list.png"), full_page=True)
    page.click("#ntc-read-all")
    page.wait_for_function("!document.querySelector('#shell-notice-line a')")
    assert page.locator("#shell-notice-count").inner_text() == ""
    assert "已读" in grid.inner_text() and "未读" not in grid.inner_text()
    links.first.click()  # to the returned update's form
    page.wait_for_url("**/update-form?pilot=*")
    assert not problems, problems
    context.close()
