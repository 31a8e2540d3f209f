"""In headless Chromium: the province opens 调度填报 and sees its 待审核 count in the menu and the queue,
the longest waiting first; opens the first update and sees each task's last accepted figure, this
period's and 序时进度; trying to accept with a warning is stopped, beside the buttons, until the
acknowledgement is ticked; 下一条 opens the next update in the queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import serve_world
from tests.browser.test_browser import browser, submit_login, watched_page  # noqa: F401  (the browser fixture)
from tests.dashboards.test_review_queue_page import review_world
from tests.factories import Factory

pytestmark = pytest.mark.browser
ROWS = "#upd-grid .ag-center-cols-container .ag-row"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def build(session: Any) -> None:
        review_world(session, Factory(session))

    with serve_world(tmp_path_factory, "live-review", build) as url:
        yield url


def test_the_province_walks_the_review_queue(
    live_server: str,
    browser: Any,  # noqa: F811  (the fixture imported above)
    artifacts: Path,
) -> None:
    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/login?next=/updates")
    submit_login(page, "shq")
    page.wait_for_selector("#nav-updates .badge")
    assert page.locator("#nav-updates .badge").inner_text().startswith("2")
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 2")
    assert "待审核 2 份" in page.locator("#upd-queue-note").inner_text()
    first = page.locator(ROWS).first
    assert "示例长治焦炭有限公司碳足迹试点" in first.inner_text() and "已等待 5 天" in first.inner_text()
    first.locator('.ag-cell[col-id="city"]').click()  # the pilot's name is a link to its page
    page.wait_for_selector("#upd-task-table")
    table = page.locator("#upd-task-table").inner_text()
    for shown in ("上次采纳", "本期", "序时进度", "10.0%", "70.0%"):
        assert shown in table, shown
    assert "第 1/2 条" in page.locator("#upd-position").inner_text()
    page.wait_for_selector("#upd-warning-list")
    assert "没有佐证材料" in page.locator("#upd-warning-list").inner_text()
    page.click("#upd-accept")
    page.wait_for_selector("#upd-review-message .alert")
    assert "我已核实以上提示" in page.locator("#upd-review-message").inner_text()
    page.screenshot(path=str(artifacts / "review-queue-warning.png"), full_page=True)
    assert "已提交待审核" in page.locator("#upd-detail").inner_text()  # not accepted
    page.get_by_text("我已核实以上提示", exact=True).click()
    page.click("#upd-accept")
    page.wait_for_function("document.querySelector('#upd-review-message')?.innerText.includes('已采纳')")
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === 1")  # it left the queue
    page.wait_for_function("document.querySelector('#nav-updates .badge')?.innerText.startsWith('1')")
    page.click("#upd-next")
    page.wait_for_function(
        "document.querySelector('#upd-detail')?.innerText.includes('示例太原钢铁有限公司碳足迹试点')"
    )
    assert "35.0%" in page.locator("#upd-task-table").inner_text()
    page.wait_for_selector("#upd-ack-box[hidden]", state="attached")  # nothing to acknowledge here
    page.screenshot(path=str(artifacts / "review-queue-next.png"), full_page=True)
    assert not problems, problems
    context.close()
