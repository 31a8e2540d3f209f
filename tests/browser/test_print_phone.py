"""In headless Chromium, on the demo province: 领导摘要, 试点详情 and 本市工作台 print on A4, portrait and
landscape, with no element over another and nothing past the page's edge; on a phone (390×844) the
menu opens from its button and tables scroll sideways instead of squeezing their columns.

Printing is checked the way the browser prints: the page is opened on a desktop screen (its charts
drawn for it), then laid out for print at the width of the A4 page's content with the page's own
scripts held still (the browser runs no resize handler while it prints, so nothing may redraw a
chart for the paper), and every visible leaf box (headings, paragraphs, table rows, the charts'
drawings, cards, buttons, grid rows) is compared with every other; then page.pdf() prints it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server

from tests.browser.test_browser import browser, watched_page  # noqa: F401  (the browser fixture)
from tests.conftest import SQLITE_PASS, fresh_database, initialise, make_settings
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.demo.province import DEMO_PASSWORD, build_demo

pytestmark = [pytest.mark.browser, SQLITE_PASS]  # layout on paper and phone, whatever the database
MM = 96 / 25.4  # CSS pixels per millimetre
MARGIN_MM = 12  # @page's margin in tracker.css
A4_CONTENT = {  # the width the page is laid out at on the paper, in CSS pixels
    False: round((210 - 2 * MARGIN_MM) * MM),
    True: round((297 - 2 * MARGIN_MM) * MM),
}
# Who prints what (the pilot is one of 长治's, so the city user may open it too).
PRINTED = [("lingdao", "/summary", "#sum-attention"), ("admin", "/pilot?id={pilot}", "#pilot-curve .main-svg"),
           ("changzhi", "/city", "#city-dues"), ("changzhi", "/pilot?id={pilot}", "#pilot-timeline .main-svg")]  # fmt: skip
# The page's scripts held still while it is laid out for print: no resize handler, no ResizeObserver.
HOLD_STILL = """() => { window.__printing = false;
  window.addEventListener('resize', e => { if (window.__printing) e.stopImmediatePropagation(); }, true);
  const Observer = window.ResizeObserver;
  window.ResizeObserver = class extends Observer {
    constructor(callback) { super((...args) => { if (!window.__printing) callback(...args); }); } }; }"""
BOXES = """width => {
  const SELECTOR = 'h1,h2,h3,h4,h5,h6,p,tr,li,img,label,input,select,textarea,.btn,.badge,.alert,.card,'
    + '.display-6,.ag-row,.ag-header-row,.js-plotly-plot .svg-container > svg.main-svg:first-child';
  const shown = [...document.querySelectorAll(SELECTOR)].filter(e => {
    const box = e.getBoundingClientRect(), style = getComputedStyle(e);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
  });
  const leaves = shown.filter(e => !shown.some(other => other !== e && e.contains(other)));
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "'
    + (e.innerText || e.textContent || '').trim().slice(0, 24) + '"';
  const boxes = leaves.map(e => [name(e), e.getBoundingClientRect()]);
  const overlaps = [], outside = [];
  boxes.forEach(([a, ra], i) => {
    if (ra.left < -1 || ra.right > width + 1) outside.push(`${a} ${Math.round(ra.left)}–${Math.round(ra.right)}`);
    boxes.slice(i + 1).forEach(([b, rb]) => {
      const across = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const down = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (across > 1 && down > 1) overlaps.push(`${a} × ${b}`);
    });
  });
  return {count: leaves.length, charts: leaves.filter(e => e.tagName === 'svg').length, overlaps, outside,
          scrollWidth: document.documentElement.scrollWidth};
}"""
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The app on a loopback port over the demo province (the data the issue was seen on), and one
    of 长治's pilots with its chart-filled page."""
    from sqlalchemy import select

    from dashboards.app import create_app
    from tracker.models import City, Pilot

    tmp = tmp_path_factory.mktemp("live-demo")
    with fresh_database(tmp) as url:
        initialise(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory, actor="test") as session:
            build_demo(session)
        with factory() as session:
            pilot = session.scalars(
                select(Pilot.id).join(City, Pilot.city_id == City.id).where(City.name_en == "Changzhi")
                .order_by(Pilot.id)
            ).first()  # fmt: skip
        assert pilot is not None
        app = create_app(make_settings(url, tmp), factory)
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}", pilot
        server.shutdown()
        engine.dispose()


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#shell-user", state="attached")
    page.wait_for_load_state("networkidle")  # a page left while its callbacks run aborts them


@pytest.mark.parametrize("landscape", [False, True], ids=["portrait", "landscape"])
@pytest.mark.parametrize(
    ("username", "path", "ready"), PRINTED, ids=[f"{u}{p.split('?')[0]}" for u, p, _r in PRINTED]
)
def test_the_page_prints_on_a4_with_nothing_overlapping(
    demo_server: tuple[str, int],
    browser: Any,  # noqa: F811  (the fixture imported above)
    artifacts: Path,
    username: str,
    path: str,
    ready: str,
    landscape: bool,
) -> None:
    base, pilot = demo_server
    context, page, problems = watched_page(browser)
    context.add_init_script(f"({HOLD_STILL})()")
    _log_in(page, base, username)
    page.goto(base + path.format(pilot=pilot))
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    charts = page.locator(".js-plotly-plot .svg-container > svg.main-svg:first-child").count()
    page.evaluate("window.__printing = true")
    page.emulate_media(media="print")
    width = A4_CONTENT[landscape]
    page.set_viewport_size({"width": width, "height": 1100})
    page.evaluate(TWO_FRAMES)
    found = page.evaluate(BOXES, width)
    assert not page.locator(".navbar").is_visible()  # printed without the menu
    assert found["count"] > 20  # the page's contents were measured, not an empty frame
    assert found["charts"] == charts and (charts > 0) is (path != "/city")  # every chart measured
    assert found["overlaps"] == [], found["overlaps"][:10]
    assert found["outside"] == [] and found["scrollWidth"] <= width, found["outside"][:10]
    name = f"print-{username}-{path.split('?')[0].strip('/')}-{'landscape' if landscape else 'portrait'}"
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    pdf = artifacts / f"{name}.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=landscape, print_background=True)
    reader = PdfReader(pdf)
    first = reader.pages[0].mediabox
    assert (float(first.width) > float(first.height)) is landscape  # A4 the way it was asked for
    assert round(float(min(first.width, first.height)) / 72 * 25.4) == 210
    assert "".join(p.extract_text() for p in reader.pages).strip()  # text, not an empty page
    assert problems == []
    context.close()


def test_on_a_phone_the_menu_opens_from_its_button_and_tables_scroll_sideways(
    demo_server: tuple[str, int],
    browser: Any,  # noqa: F811
    artifacts: Path,
) -> None:
    base, _pilot = demo_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=True,
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    _log_in(page, base, "changzhi")
    page.goto(f"{base}/city")
    page.wait_for_selector("#city-dues")
    page.wait_for_load_state("networkidle")
    menu = page.locator(".navbar").get_by_role("link", name="试点名录", exact=True)
    toggler = page.locator("#shell-menu-toggler")
    assert toggler.is_visible() and not menu.is_visible()  # the menu's entries are hidden ...
    assert not page.locator("#logout-button").is_visible()
    assert (
        page.evaluate("document.documentElement.scrollWidth") <= 390
    )  # the page itself never scrolls sideways
    page.screenshot(path=str(artifacts / "phone-city.png"), full_page=True)
    toggler.click()  # ... until the button is pressed
    menu.wait_for(state="visible")
    assert page.locator("#logout-button").is_visible()
    page.screenshot(path=str(artifacts / "phone-menu-open.png"))
    toggler.click()
    menu.wait_for(state="hidden")

    # A plain table keeps its columns readable and scrolls inside itself.
    table = page.locator("#city-dues")
    narrowest = page.evaluate(
        "() => Math.min(...[...document.querySelectorAll('#city-dues th')].map(c => c.getBoundingClientRect().width))"
    )
    assert narrowest >= 60
    assert table.evaluate("t => t.scrollWidth > t.clientWidth && getComputedStyle(t).overflowX === 'auto'")

    # The entry grid (sized to fit its width on a desktop) keeps its columns and scrolls sideways.
    link = page.locator("a[href*='update-form']").first
    page.goto(base + link.get_attribute("href"))
    page.wait_for_selector("#uform-tasks .ag-row")
    page.wait_for_load_state("networkidle")
    widths = page.evaluate(
        "() => [...document.querySelectorAll('#uform-tasks .ag-header-cell')].map(c => c.getBoundingClientRect().width)"
    )
    assert widths and min(widths) >= 60, widths
    assert page.evaluate("""() => { const view = document.querySelector('#uform-tasks .ag-center-cols-viewport');
        return view.scrollWidth > view.clientWidth; }""")  # fmt: skip
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "phone-update-form.png"), full_page=True)

    # So does a list grid, and following a link closes the open menu.
    page.goto(f"{base}/pilots")
    page.wait_for_selector("#registry-grid .ag-row")
    widths = page.evaluate(
        "() => [...document.querySelectorAll('#registry-grid .ag-header-cell')].map(c => c.getBoundingClientRect().width)"
    )
    assert widths and min(widths) >= 60, widths
    page.wait_for_load_state("networkidle")
    toggler.click()
    page.locator(".navbar").get_by_role("link", name="本市工作台", exact=True).click()
    page.wait_for_selector("#city-dues")
    page.locator(".navbar").get_by_role("link", name="试点名录", exact=True).wait_for(state="hidden")
    assert problems == []
    context.close()
