"""In headless Chromium (the system package, driven by Playwright): a city user's visit end to end."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import fresh_database, initialise, make_settings
from tests.factories import PASSWORD, Factory
from tracker.core.db import make_engine, make_session_factory
from tracker.models import ApplicationStatus, Role

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a loopback port, over its own committed database."""
    from dashboards.app import create_app

    tmp = tmp_path_factory.mktemp("live")
    with fresh_database(tmp) as url:
        initialise(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            make = Factory(session)
            make.user(Role.CITY_STAFF, "长治", username="changzhi_staff")
            make.pilot("长治", name="示例长治焦炭有限公司碳足迹试点")
            make.pilot("长治", product="氢", name="示例长治氢能有限公司碳足迹试点")
            make.pilot("太原", product="钢铁", name="示例太原钢铁有限公司碳足迹试点")
            for _ in range(3):
                make.application("长治", status=ApplicationStatus.SUBMITTED)
            _jobs_world(session, make)
        app = create_app(make_settings(url, tmp), factory)
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        engine.dispose()


def _jobs_world(session: Any, make: Factory) -> None:
    """What the jobs pages show: an archived bulletin, a failed message, a recipient."""
    import datetime as dt

    from tracker.delivery.bulletin_archive import archive_bulletin
    from tracker.delivery.outbox import enqueue
    from tracker.delivery.recipients import RecipientEntry, save_recipient
    from tracker.models import Audience, Channel, MessageState

    admin = make.user(Role.PROVINCE_ADMIN, None, username="province_admin")
    make.user(Role.LEADER, None, username="leader_ro")
    now = dt.datetime(2026, 11, 8, 1, 0, tzinfo=dt.UTC)
    archive_bulletin(session, province_id=admin.province_id, kind="monthly", period="2026-10", cut="province",
                     city_id=None, number=10, issued_on=now.date(), title="山西省产品碳足迹管理试点调度通报 第10期",
                     summary="全省试点 3 个", file_name="调度通报-2026-10-全省.xlsx", content_type="application/octet-stream",
                     content=b"bulletin file", run_id=None, now=now)  # fmt: skip
    message = enqueue(session, key="browser/failed", channel="email", recipient="qhc@example.com",
                      subject="调度通报 第10期", body="...", now=now)  # fmt: skip
    assert message is not None
    message.state, message.attempts, message.last_error = MessageState.FAILED, 5, "ConnectionRefusedError"
    save_recipient(session, admin, RecipientEntry(Audience.CITY, make.city("长治"), Channel.EMAIL, "cz@example.com",
                                                  "长治市局"))  # fmt: skip
    session.commit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def watched_page(browser: Any, *, bypass_csp: bool = True) -> tuple[Any, Any, list[str]]:
    """A fresh context and page, with console errors and failed requests collected in a list.

    Playwright's own waits (``wait_for_function`` with a string) evaluate JavaScript, which the
    app's Content-Security-Policy forbids; these tests let Playwright past it (``bypass_csp``), and
    tests/browser/test_csp_browser.py checks every page under the policy without."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="zh-CN", bypass_csp=bypass_csp
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    return context, page, problems


def submit_login(page: Any, username: str) -> None:
    """Fill in and send the login form the page shows."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def switch_language(page: Any, locale: str) -> None:
    """Click the switch in the menu (or on the login page) and wait for the page to come back in ``locale``."""
    page.wait_for_load_state("networkidle")  # a full page load aborts requests still in flight
    page.click("#language-switch")
    # ``?.``: while the reload commits, the new document may not have its root element yet
    page.wait_for_function(f"document.documentElement?.lang === '{'en' if locale == 'en' else 'zh-CN'}'")
    page.wait_for_load_state("networkidle")


def test_city_user_sees_only_their_city_then_logs_out(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context, page, problems = watched_page(browser)
    page.on(
        "request",
        lambda req: None if req.url.startswith(live_server) else problems.append(f"off-site: {req.url}"),
    )

    page.goto(f"{live_server}/pilots")
    assert "/login" in page.url
    submit_login(page, "changzhi_staff")
    page.wait_for_selector(".ag-center-cols-container .ag-row")
    page.wait_for_function("document.querySelector('#registry-count')?.textContent.includes('2')")
    names = page.locator(".ag-pinned-left-cols-container .ag-row").all_inner_texts()
    assert sorted(n.strip() for n in names) == [
        "示例长治氢能有限公司碳足迹试点",
        "示例长治焦炭有限公司碳足迹试点",
    ]
    assert "太原" not in page.locator("#registry-grid").inner_text()
    assert "市级业务人员" in page.locator("#shell-user").inner_text()
    page.screenshot(path=str(artifacts / "registry-city-user.png"), full_page=True)

    switch_language(
        page, "en"
    )  # the same page, in English: menu, grid headers, grid toolbar, the grid's own words
    page.wait_for_selector(".ag-center-cols-container .ag-row")
    assert "City staff" in page.locator("#shell-user").inner_text()
    assert page.locator(".navbar").get_by_role("link", name="Pilot register", exact=True).count() == 1
    assert "Pilot name" in page.locator("#registry-grid .ag-header").inner_text()
    assert page.locator("#registry-grid-columns").inner_text() == "Columns"
    assert (
        "示例长治焦炭有限公司碳足迹试点" in page.locator("#registry-grid").inner_text()
    )  # data stays as entered
    page.screenshot(path=str(artifacts / "registry-city-user-en.png"), full_page=True)
    with page.expect_download() as download:  # the registry's Excel export, as the city sees it
        page.click("#registry-grid-excel")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.locator("#registry-grid a", has_text="示例长治焦炭有限公司碳足迹试点").click()  # drill down
    page.wait_for_selector("#pilot-status")
    assert "Expected progress" in page.locator("#_pages_content").inner_text()
    page.wait_for_load_state("networkidle")

    cookies = context.cookies()
    page.click("#logout-button")
    page.wait_for_url("**/login")
    page.goto(f"{live_server}/pilots")
    assert "/login" in page.url
    # The cookie from before the logout is dead on the server, not just deleted in this browser.
    replay = browser.new_context(bypass_csp=True)
    replay.add_cookies(cookies)
    assert replay.request.get(f"{live_server}/_dash-layout").status == 401
    replay.close()
    assert problems == []
    context.close()


def test_every_grid_offers_column_choice_and_an_excel_export_of_what_it_shows(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    import io

    import openpyxl

    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/login")
    submit_login(page, "changzhi_staff")
    page.wait_for_selector("#shell-user")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/pilots")
    page.wait_for_selector("#registry-grid .ag-center-cols-container .ag-row")
    # every column's header, rendered or not (the grid draws only the columns in view)
    before = page.evaluate(
        "dash_ag_grid.getApi('registry-grid').getColumns().map(c => c.getColDef().headerName)"
    )
    page.click("#registry-grid-columns")
    chooser = page.locator("#registry-grid-tools .dropdown-menu")
    hidden = before[-1]
    chooser.get_by_text(hidden, exact=True).click()
    page.wait_for_function("dash_ag_grid.getApi('registry-grid').getAllDisplayedColumns().length === "
                           f"{len(before) - 1}")  # fmt: skip
    page.mouse.click(5, 5)  # closes the chooser
    with page.expect_download() as download:
        page.click("#registry-grid-excel")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    header_row = [cell.value for cell in sheet[3] if cell.value]
    assert hidden not in header_row and len(header_row) == len(before) - 1
    names = sorted(str(sheet.cell(row, header_row.index("试点名称") + 1).value) for row in (4, 5))
    assert names == ["示例长治氢能有限公司碳足迹试点", "示例长治焦炭有限公司碳足迹试点"]
    assert sheet.max_row == 5  # the city's two pilots, nothing of 太原
    page.screenshot(path=str(artifacts / "grid-tools.png"))
    assert problems == []
    context.close()


def test_the_selection_stays_on_its_row_after_an_action(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    """After a workflow step the list reloads; every row keeps its own id, so the list stays whole and
    the selected application is still the one acted on (not another row)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    warnings: list[str] = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type in ("error", "warning") else None)
    page.goto(f"{live_server}/login?next=/applications")
    submit_login(page, "changzhi_staff")
    rows = page.locator("#apps-grid .ag-center-cols-container .ag-row")
    rows.first.wait_for()
    assert rows.count() == 3
    second = page.locator("#apps-grid .ag-pinned-left-cols-container .ag-row").nth(1)
    name = second.inner_text().strip()
    second.click()
    page.wait_for_selector("#apps-step-pass:not(.d-none)")
    assert name in page.locator("#apps-detail").inner_text()
    page.click("#apps-step-pass")
    page.wait_for_selector("#apps-message .alert")
    assert "已办理" in page.locator("#apps-message").inner_text()
    page.wait_for_function(
        "document.querySelectorAll('#apps-grid .ag-center-cols-container .ag-row').length === 3"
    )
    page.wait_for_function(
        "document.querySelector('#apps-detail')?.innerText.includes('初审通过')"
    )  # the detail reloads with the new status
    assert name in page.locator("#apps-detail").inner_text()
    assert not [w for w in warnings if "getRowId" in w or "Duplicate node id" in w], warnings
    page.screenshot(path=str(artifacts / "applications-after-step.png"), full_page=True)
    context.close()


def test_a_pilot_name_opens_its_page_with_figures_and_charts(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    """The registry's pilot names are links (an AG Grid cell renderer served from /assets); the
    pilot page draws its timeline and curve with no console errors."""
    context, page, problems = watched_page(browser)
    page.on(
        "response", lambda res: problems.append(f"{res.status}: {res.url}") if res.status >= 400 else None
    )
    page.goto(f"{live_server}/login?next=/pilots")
    submit_login(page, "changzhi_staff")
    link = page.locator(
        "#registry-grid .ag-pinned-left-cols-container a", has_text="示例长治焦炭有限公司碳足迹试点"
    )
    link.wait_for()
    link.click()
    page.wait_for_url("**/pilot?id=*")
    page.wait_for_selector("#pilot-expected")
    assert page.locator("#pilot-expected").inner_text().endswith("%")
    page.wait_for_selector("#pilot-timeline .main-svg")
    page.wait_for_selector("#pilot-curve .main-svg")
    assert "今日" in page.locator("#pilot-timeline").inner_text()
    assert "示例长治焦炭有限公司碳足迹试点" in page.locator("h2").first.inner_text()
    page.screenshot(path=str(artifacts / "pilot-page.png"), full_page=True)
    page.goto(page.url)  # opened whole: plotly.js preloaded under its fingerprint, fetched and run once
    page.wait_for_selector("#pilot-curve .main-svg")
    plotly = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/plotly/'))"
    )
    assert len(plotly) == 1 and re.search(r"/plotly\.v\w+m\d+\.min\.js$", plotly[0]), plotly
    assert page.evaluate("document.querySelectorAll('script[src*=\"/plotly/\"]').length") == 1
    page.goto(f"{live_server}/city")
    page.wait_for_selector("#city-dues")
    assert "示例长治焦炭有限公司碳足迹试点" in page.locator("#city-dues").inner_text()
    page.screenshot(path=str(artifacts / "city-workspace.png"), full_page=True)
    assert problems == []
    context.close()


def test_the_admin_walks_the_jobs_pages_and_downloads_a_bulletin(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/login")
    submit_login(page, "province_admin")
    page.wait_for_url(f"{live_server}/")
    page.wait_for_selector("#ov-total")  # the overview: figures and charts drawn
    page.wait_for_selector("#ov-scatter .main-svg")
    assert page.locator("#ov-total").inner_text() == "3"
    page.screenshot(path=str(artifacts / "overview-admin.png"), full_page=True)
    for name in ("调度通报", "定时任务", "发送对象"):
        assert page.locator(".navbar").get_by_role("link", name=name, exact=True).count() == 1, name
    page.wait_for_load_state("networkidle")
    page.click("#ov-total")  # drill down: the figure opens the list behind it
    page.wait_for_selector("#registry-grid .ag-row")
    page.wait_for_function("document.querySelector('#registry-count')?.textContent.includes('3')")
    assert page.url.endswith("/pilots")
    page.wait_for_load_state("networkidle")

    page.locator(".navbar").get_by_role("link", name="调度通报", exact=True).click()
    page.wait_for_selector("#bul-grid .ag-row")
    assert "第10期" in page.locator("#bul-grid").inner_text()
    with page.expect_download() as download:
        page.get_by_text("调度通报-2026-10-全省.xlsx").click()
    assert download.value.suggested_filename == "调度通报-2026-10-全省.xlsx"
    page.screenshot(path=str(artifacts / "bulletins-admin.png"), full_page=True)

    page.locator(".navbar").get_by_role("link", name="定时任务", exact=True).click()
    page.wait_for_selector("#jobs-failed .ag-row")
    assert "月度调度通报" in page.locator("#jobs-schedule").inner_text()
    assert "qhc@example.com" in page.locator("#jobs-failed").inner_text()
    page.screenshot(path=str(artifacts / "jobs-admin.png"), full_page=True)

    page.locator(".navbar").get_by_role("link", name="发送对象", exact=True).click()
    page.wait_for_selector("#rcp-grid .ag-row")
    page.locator("#rcp-grid .ag-row", has_text="长治市局").first.click()
    page.wait_for_function("document.querySelector('#rcp-address')?.value === 'cz@example.com'")
    page.screenshot(path=str(artifacts / "recipients-admin.png"), full_page=True)

    switch_language(page, "en")
    page.locator(".navbar").get_by_role("link", name="Scheduled jobs", exact=True).click()
    page.wait_for_selector("#jobs-failed .ag-row")
    assert "Monthly dispatch bulletin" in page.locator("#jobs-schedule").inner_text()
    page.locator(".navbar").get_by_role("link", name="Dispatch bulletin", exact=True).click()
    page.wait_for_selector("#bul-grid .ag-row")
    assert "Nov 8, 2026" in page.locator("#bul-grid").inner_text()  # the grid's dates in English
    page.screenshot(path=str(artifacts / "bulletins-admin-en.png"), full_page=True)
    page.locator(".navbar").get_by_role("link", name="Audit log", exact=True).click()
    page.wait_for_selector("#audit-grid .ag-row")  # rows fetched block by block from the server
    page.wait_for_function("/\\d+ events in total/.test(document.querySelector('#audit-count')?.textContent)")
    page.screenshot(path=str(artifacts / "audit-admin-en.png"), full_page=True)
    page.wait_for_load_state("networkidle")
    page.click("#logout-button")
    page.wait_for_url("**/login")
    assert page.locator("#login-submit").inner_text() == "Log in"  # the language outlives the session
    assert problems == []
    context.close()


def test_plotly_arriving_late_on_a_first_visit_runs_once(live_server: str, browser: Any) -> None:
    """A first visit on a slow line: the chart page's deferred plotly.js arrives after the charts
    are on the page. dcc.Graph waits for it (assets/plotlyOnce.js) instead of fetching a second copy
    from its own address, and the charts are drawn by the one plotly.js."""
    import time

    context, page, problems = watched_page(browser)  # a new context: nothing in the browser's cache
    fetched: list[str] = []
    page.on("request", lambda req: fetched.append(req.url) if "/plotly/" in req.url else None)

    def slowly(route: Any) -> None:
        time.sleep(2.5)  # the browser goes on meanwhile: layout, callbacks, the charts' components
        route.continue_()

    page.goto(f"{live_server}/login?next=/pilots")  # a page without charts: plotly.js not fetched yet
    submit_login(page, "leader_ro")
    page.wait_for_selector("#registry-grid .ag-row")
    assert fetched == []
    page.route("**/_dash-component-suites/plotly/**", slowly)
    page.goto(f"{live_server}/summary")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    assert len(fetched) == 1 and re.search(r"/plotly\.v\w+m\d+\.min\.js$", fetched[0]), fetched
    assert page.evaluate("typeof window.Plotly.react") == "function"
    assert problems == []
    context.close()


def test_a_leader_reads_the_summary_and_downloads_it_as_pdf(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context, page, problems = watched_page(browser)
    page.goto(f"{live_server}/summary")
    switch_language(page, "en")  # on the login page, before logging in
    assert page.locator("#login-submit").inner_text() == "Log in"
    submit_login(page, "leader_ro")
    page.wait_for_selector("#sum-figures")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert "has 3 pilots monitored" in page.locator("#sum-sentence").inner_text()
    assert page.locator("#sum-pdf").inner_text() == "Download PDF"
    page.screenshot(path=str(artifacts / "summary-leader-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert "纳入调度试点3个" in page.locator("#sum-sentence").inner_text()
    assert "第10期" in page.get_by_text("山西省产品碳足迹管理试点调度通报 第10期").inner_text()
    with page.expect_download() as download:
        page.click("#sum-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    page.screenshot(path=str(artifacts / "summary-leader.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator(".navbar").is_visible()  # printed without the menu
    page.emulate_media(media="screen")
    page.locator("#sum-attention a").first.click()  # drill down: a pilot needing attention
    page.wait_for_selector("#pilot-status")
    page.wait_for_load_state("networkidle")
    page.click("#logout-button")
    page.wait_for_url("**/login")
    assert problems == []
    context.close()
