"""In headless Chromium: the 风险线索 page opens grouped — one pilot's three months of progress going
backwards are one row, ×3 — selecting it lists the three flags, 逐条 shows them one by one, the
无法比对 line is there, and a step taken on the group is taken on all three."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import serve_world
from tests.browser.test_browser import browser, submit_login, watched_page  # noqa: F401  (the browser fixture)
from tests.dashboards.test_flags_groups import months
from tests.factories import Factory
from tracker.models import Role
from tracker.progress.consistency import scan_progress

pytestmark = pytest.mark.browser
ROWS = "#flg-grid .ag-center-cols-container .ag-row"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def build(session: Any) -> None:
        make = Factory(session)
        make.user(Role.PROVINCE_STAFF, None, username="sheng_staff")
        months(make.pilot("长治", name="示例长治焦炭有限公司碳足迹试点"), make, ["40", "30", "20", "10"])
        scan_progress(session, now=dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC))
        session.commit()

    with serve_world(tmp_path_factory, "live-flags", build) as url:
        yield url


def test_a_group_is_one_row_lists_its_flags_and_takes_a_step_on_each(
    live_server: str,
    browser: Any,  # noqa: F811  (the fixture imported above)
    artifacts: Path,
) -> None:
    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/login?next=/flags")
    submit_login(page, "sheng_staff")
    page.wait_for_selector(ROWS)
    grouped = page.locator(ROWS, has_text="进度倒退 ×3")
    assert grouped.count() == 1 and "2025年10月、2025年11月、2025年12月" in grouped.inner_text()
    assert "无法比对" in page.locator("#flg-uncomparable").inner_text()
    assert "合为" in page.locator("#flg-count").inner_text()
    grouped.click()
    page.wait_for_selector("#flg-group-members")
    assert page.locator("#flg-group-members tbody tr").count() == 3
    page.screenshot(path=str(artifacts / "flags-grouped.png"), full_page=True)
    page.get_by_text("逐条", exact=True).click()
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 3")
    page.get_by_text("分组", exact=True).click()
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 1")
    page.locator(ROWS).first.click()
    page.wait_for_selector("#flg-group-members")
    page.fill("#flg-reason", "连续三个月进度倒退，核实属实")
    page.wait_for_selector("#flg-confirm:not([disabled])")
    page.click("#flg-confirm")
    page.wait_for_selector("#flg-message .alert")
    assert "已确认：进度倒退，共 3 条" in page.locator("#flg-message").inner_text()
    # Confirmed flags leave the default queue (still to be looked at): the group with them.
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 0")
    page.wait_for_function("document.querySelector('#flg-detail')?.innerText.includes('该组已没有风险线索')")
    assert not problems, problems
    context.close()
