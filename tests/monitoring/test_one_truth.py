"""One truth on every surface: on the demo, for the province and for two cities on one day, the
figures read from 概览, 本市工作台, 领导摘要 (page, workbook and PDF), 调度填报, 试点详情 and the API
are the same as ``tracker.monitoring.figures.scope_figures`` gives; a numbered bulletin (as of its period's
end) agrees with the API asked for that day; and every headline sentence adds up."""

from __future__ import annotations

import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
from pypdf import PdfReader

from reports.bulletin import CHANGED_ROWS, bulletin_xlsx
from tests.dashboards.test_workplan_page import body
from tests.reports.test_bulletin import pdf_text
from tests.web import call_callback, component, login
from tracker.access import accounts
from tracker.access.permissions import system_reader
from tracker.core import clock
from tracker.core.periods import reporting_period
from tracker.demo.province import DEMO_PASSWORD, DEMO_TZ, build_demo
from tracker.models import City, Province, Severity, User
from tracker.monitoring.bulletin_data import Cut, bulletin_data
from tracker.monitoring.figures import (
    Change,
    Figures,
    GroupFigures,
    as_of_text,
    completeness_label,
    headline_changes,
    one_period_before,
    scope_figures,
    timeliness_label,
)
from tracker.progress.expected import ProgressStatus, thresholds_from

SCOPES = [("sheng", None), ("changzhi", "140400"), ("jinzhong", "140700")]
CHANGE_CARDS = {"pilots": "ov-measured", "on_track": "ov-on-track", "behind": "ov-behind", "serious": "ov-serious",
                "completeness": "ov-completeness", "overdue": "ov-overdue"}  # fmt: skip


@pytest.fixture
def demo(db, settings):  # type: ignore[no-untyped-def]
    day = clock.local_today(DEMO_TZ)
    build_demo(db, today=day)
    db.commit()
    return day


def reference(
    db: Any, settings: Any, day: Any, code: str | None, *, on: Any = None, period: Any = None
) -> Figures:
    """What every surface must show: the figures computed directly, as a provincial reader."""
    province = db.query(Province).one()
    city_id = db.query(City).filter_by(code=code).one().id if code else None
    return scope_figures(db, system_reader(province.id), on=on or day, period=period or reporting_period(day, settings.reporting),
                         reporting=settings.reporting, thresholds=thresholds_from(settings), city_id=city_id)  # fmt: skip


def changes_of(db: Any, settings: Any, day: Any, code: str | None) -> dict[str, Change]:
    """较上期 as every surface must show it: the same figures one period earlier, subtracted."""
    now = reference(db, settings, day, code)
    then, previous = one_period_before(day, now.period)
    before = reference(db, settings, day, code, on=then, period=previous)
    return headline_changes(now.total, before.total)


def text_of(tree: Any) -> str:
    return json.dumps(tree, ensure_ascii=False)


def page(client: Any, app: Any, path: str, search: str = "") -> Any:
    return body(call_callback(client, app, "_pages_content", {"_pages_location": path,
                                                              "_pages_location.search": search}))["_pages_content"]  # fmt: skip


def words(tree: Any) -> str:
    """Every string in a rendered tree, joined (what a reader sees, less the markup)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("children", "props", "value") or isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    return "".join(found)


def headline_words(line: GroupFigures) -> list[str]:
    """The fragments of the headline sentence that carry the counts."""
    c = line.by_status
    return [
        f"纳入调度试点{line.pilots}个",
        f"进度正常{c[ProgressStatus.ON_TRACK]}个，滞后{line.behind}个（其中严重滞后{c[ProgressStatus.SERIOUSLY_BEHIND]}个），"
        f"全部完成{c[ProgressStatus.FINISHED]}个，未开始{c[ProgressStatus.NOT_STARTED]}个",
        f"进展报送完整率{completeness_label(line.reporting)}，及时率{timeliness_label(line.reporting)}",
        f"逾期里程碑{line.overdue_milestones}个，待核查风险线索{line.open_flags_total}条",
    ]


def check_overview(
    client: Any, app: Any, line: GroupFigures, figures: Figures, changes: dict[str, Change]
) -> None:
    answer = body(call_callback(client, app, "ov-cards", {}))
    cards = answer["ov-cards"]["children"]
    attention = answer["ov-attention"]["rowData"]

    def card(card_id: str) -> str:
        return str(component(cards, card_id)["children"])

    c = line.by_status
    assert card("ov-measured") == str(line.pilots)
    assert card("ov-on-track") == str(c[ProgressStatus.ON_TRACK])
    assert card("ov-behind") == str(line.behind)
    assert card("ov-serious") == str(c[ProgressStatus.SERIOUSLY_BEHIND])
    assert card("ov-finished") == f"{c[ProgressStatus.FINISHED]}/{c[ProgressStatus.NOT_STARTED]}"
    assert card("ov-reporting") == f"{line.reporting.expected}/{line.reporting.submitted}"
    assert card("ov-completeness") == completeness_label(line.reporting)
    assert card("ov-timeliness") == timeliness_label(line.reporting)
    assert card("ov-flags") == "/".join(
        str(line.open_flags[s]) for s in (Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    )
    assert card("ov-overdue") == str(line.overdue_milestones)
    assert card("ov-as-of") == as_of_text(figures)
    for key, card_id in CHANGE_CARDS.items():  # 较上期 beside each count, from the same figures
        assert card(f"{card_id}-change") == changes[key].text("zh_CN"), card_id
    # Each count opens the registry holding exactly the pilots it counts, its filter in the address.
    measured = {p.id for p in figures.pilots}
    with_overdue = {pid for pid, late in figures.overdue.items() if late and pid in measured}
    expected = {"ov-measured": line.pilots, "ov-on-track": c[ProgressStatus.ON_TRACK], "ov-behind": line.behind,
                "ov-serious": c[ProgressStatus.SERIOUSLY_BEHIND],
                "ov-finished": c[ProgressStatus.FINISHED] + c[ProgressStatus.NOT_STARTED], "ov-overdue": len(with_overdue)}  # fmt: skip
    listed: dict[str, set[int]] = {}
    for card_id, count in expected.items():
        address = urlsplit(link_around(cards, card_id))
        assert address.path == "/pilots", card_id
        query = dict(parse_qsl(address.query))
        inputs = {f"registry-{key}": query[key].split(",") for key in ("progress", "overdue") if key in query}
        assert inputs, card_id
        rows = body(call_callback(client, app, "registry-grid", inputs))["registry-grid"]["rowData"]
        assert len(rows) == count, (card_id, address.query, len(rows), count)
        listed[card_id] = {r["id"] for r in rows}
        if card_id == "ov-serious":
            assert {r["progress_key"] for r in rows} <= {"seriously_behind"}

    # 需关注的试点 lists, for each of these reasons, exactly the pilots its card's drill-down lists.
    def attention_for(reason: str) -> set[int]:
        return {r["pilot_id"] for r in attention if reason in r["reason_keys"]}

    assert attention_for("seriously_behind") == listed["ov-serious"]
    assert attention_for("overdue_milestone") == listed["ov-overdue"]
    high = {pid for severity, pid, _city in figures.flags if severity is Severity.HIGH and pid in measured}
    assert attention_for("high_flag") == high and len(high) <= line.open_flags[Severity.HIGH]
    assert attention and len({r["pilot_id"] for r in attention}) == len(attention)


def link_around(tree: Any, element_id: str) -> str:
    """The address of the link that holds the element ``element_id``."""

    def walk(node: Any, href: str | None) -> str | None:
        if isinstance(node, dict):
            props = node.get("props", {})
            href = props.get("href", href) if isinstance(props, dict) else href
            if isinstance(props, dict) and props.get("id") == element_id:
                return href
            return next((found for value in node.values() if (found := walk(value, href))), None)
        if isinstance(node, list):
            return next((found for item in node if (found := walk(item, href))), None)
        return None

    found = walk(tree, None)
    assert found, element_id
    return found


def check_summary(client: Any, app: Any, line: GroupFigures, changes: dict[str, Change]) -> None:
    shown = page(client, app, "/summary")
    sentence = str(component(shown, "sum-sentence")["children"])
    for fragment in headline_words(line):
        assert fragment in sentence, (fragment, sentence)
    workbook = client.get("/summary/download.xlsx")
    assert workbook.status_code == 200
    rows = {r[0]: r[1] for r in openpyxl.load_workbook(io.BytesIO(workbook.data))["汇总"].iter_rows(values_only=True)
            if r and isinstance(r[0], str)}  # fmt: skip
    changed = {r[0]: r[2] for r in openpyxl.load_workbook(io.BytesIO(workbook.data))["汇总"].iter_rows(values_only=True)
               if r and isinstance(r[0], str) and len(r) > 2}  # fmt: skip
    for name, key in CHANGED_ROWS.items():
        delta = changes[key].delta
        assert changed[name] == (None if delta is None else float(delta)), name
    for key in CHANGE_CARDS:
        assert changes[key].text("zh_CN") in words(shown), key
    c = line.by_status
    assert rows["纳入调度的试点（个）"] == line.pilots
    assert rows["进度正常（个）"] == c[ProgressStatus.ON_TRACK]
    assert rows["进度滞后（个，含严重滞后）"] == line.behind
    assert rows["其中严重滞后（个）"] == c[ProgressStatus.SERIOUSLY_BEHIND]
    assert rows["逾期里程碑（个）"] == line.overdue_milestones
    assert rows["待核查风险线索（条）"] == line.open_flags_total
    assert rows["报送完整率（%）"] == (
        float(line.reporting.completeness) if line.reporting.applicable else "不适用"
    )
    assert (line.expected is None and rows["平均序时进度（%）"] is None) or rows[
        "平均序时进度（%）"
    ] == float(line.expected)
    pdf = client.get("/summary/download.pdf")
    assert pdf.status_code == 200
    text = "".join(pdf_text(p) for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for fragment in headline_words(line):
        assert re.sub(r"\s", "", fragment) in text, fragment
    shown_counts = {"pilots": ("纳入调度的试点", line.pilots), "on_track": ("进度正常", c[ProgressStatus.ON_TRACK]),
                    "behind": ("进度滞后（含严重）", line.behind), "overdue": ("逾期里程碑", line.overdue_milestones),
                    "serious": ("其中严重滞后", c[ProgressStatus.SERIOUSLY_BEHIND])}  # fmt: skip
    for key, (name, count) in shown_counts.items():  # each count, then its 较上期 under it
        moved = re.sub(r"\s", "", changes[key].text("zh_CN"))
        assert f"{name}{count}个{moved}" in text, (key, text)


def check_updates_page(client: Any, app: Any, figures: Figures, line: GroupFigures) -> None:
    answer = body(call_callback(client, app, "upd-grid", {"upd-period": figures.period.key}))
    rows = answer["upd-grid"]["rowData"]
    assert {r["pilot_id"]: r["expected"] for r in rows} == {
        pid: float(p.expected) for pid, p in figures.progress.items() if pid in {r["pilot_id"] for r in rows}
    }
    assert {r["pilot_id"]: r["actual"] for r in rows} == {
        r["pilot_id"]: float(figures.progress[r["pilot_id"]].actual) for r in rows
    }
    table = words(answer["upd-completeness"])
    assert completeness_label(line.reporting) in table and as_of_text(figures) in table


def check_api(client: Any, token: str, figures: Figures, line: GroupFigures, code: str | None) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.get("/api/v1/figures" + (f"?city={code}" if code else ""), headers=auth).get_json()
    assert answer["pilots"] == line.pilots and answer["overdue_milestones"] == line.overdue_milestones
    assert answer["by_status"] == {s.value: n for s, n in line.by_status.items()}
    assert answer["expected"] == (float(line.expected) if line.expected is not None else None)
    assert answer["reporting"]["submitted"] == line.reporting.submitted
    assert answer["reporting"]["on_time"] == line.reporting.on_time
    assert answer["open_flags"] == {s.value: n for s, n in line.open_flags.items()}
    pilots = {p["id"]: p["progress"] for p in client.get("/api/v1/pilots", headers=auth).get_json()}
    for pilot in figures.pilots:
        if code is None or pilot.city.code == code:
            assert pilots[pilot.id]["expected"] == float(figures.progress[pilot.id].expected)
            assert pilots[pilot.id]["gap"] == float(figures.progress[pilot.id].gap)


@pytest.mark.parametrize(("username", "code"), SCOPES)
def test_one_scope_on_one_day_reads_the_same_on_every_surface(
    client, app, db, settings, demo, username, code
) -> None:  # type: ignore[no-untyped-def]
    figures = reference(db, settings, demo, code)
    line = figures.total if code is None else figures.city(db.query(City).filter_by(code=code).one().id)
    assert line is not None and line.pilots > 0
    assert sum(line.by_status.values()) == line.pilots  # the counts partition the pilots
    login(client, username, DEMO_PASSWORD)
    changes = changes_of(db, settings, demo, code)
    check_overview(
        client, app, line, figures if code is None else reference(db, settings, demo, code), changes
    )
    check_summary(client, app, line, changes)
    check_updates_page(client, app, figures, line)
    one = next(p for p in figures.pilots if code is None or p.city.code == code)
    detail = page(client, app, "/pilot", f"?id={one.id}")
    for card_id, value in (
        ("pilot-expected", figures.progress[one.id].expected),
        ("pilot-actual", figures.progress[one.id].actual),
        ("pilot-gap", figures.progress[one.id].gap),
    ):
        assert float(words(component(detail, card_id)).rstrip("%")) == float(value), card_id  # fmt: skip
    if code is not None:  # 本市工作台
        workspace = page(client, app, "/city")
        summary = words(component(workspace, "city-summary"))
        assert completeness_label(line.reporting) in summary and str(line.reporting.expected) in summary
        assert as_of_text(reference(db, settings, demo, code)) in words(component(workspace, "city-as-of"))
        dues = text_of(component(workspace, "city-dues"))
        for pilot in (p for p in figures.pilots if p.city.code == code):
            assert pilot.name in dues
    user = db.query(User).filter_by(username=username).one()
    check_api(client, accounts.issue_api_token(db, user), figures, line, code)


@pytest.mark.parametrize(("username", "code"), SCOPES)
def test_a_bulletin_as_of_its_period_end_agrees_with_the_api_asked_for_that_day(
    client, db, settings, demo, username, code
) -> None:  # type: ignore[no-untyped-def]
    period = reporting_period(demo, settings.reporting)
    cut = Cut.city(code) if code else Cut.province()
    data = bulletin_data(
        db, period=period, cut=cut, on=period.end, number=1, issued_on=demo, settings=settings
    )
    h = data.headline
    assert (h.by_progress[ProgressStatus.ON_TRACK] + h.behind + h.by_progress[ProgressStatus.FINISHED]
            + h.by_progress[ProgressStatus.NOT_STARTED]) == h.pilots  # fmt: skip
    assert "进度统计截至" in data.subtitle and f"统计实施中的试点{h.pilots}个" in data.subtitle
    user = db.query(User).filter_by(username=username).one()
    auth = {"Authorization": f"Bearer {accounts.issue_api_token(db, user)}"}
    query = f"?on={period.end.isoformat()}&period={period.key}" + (f"&city={code}" if code else "")
    answer = client.get("/api/v1/figures" + query, headers=auth).get_json()
    assert answer["pilots"] == h.pilots and answer["overdue_milestones"] == h.overdue_milestones
    assert answer["by_status"] == {s.value: n for s, n in h.by_progress.items()}
    assert answer["reporting"]["completeness"] == (
        float(h.completeness) if h.completeness is not None else None
    )
    sheet = openpyxl.load_workbook(io.BytesIO(bulletin_xlsx(data)))["分市情况"]
    by_city = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and isinstance(r[0], str)}
    for city in answer["cities"]:
        row = by_city[city["scope"]]
        assert row[1] == city["pilots"] and row[3] == sum(
            city["by_status"][s] for s in ("behind", "seriously_behind")
        )
        assert row[8] == city["gap"] and row[12] == city["reporting"]["completeness"]


def test_the_province_and_its_cities_add_up(db, settings, demo) -> None:  # type: ignore[no-untyped-def]
    figures = reference(db, settings, demo, None)
    assert sum(c.pilots for c in figures.cities) == figures.total.pilots
    assert sum(c.overdue_milestones for c in figures.cities) == figures.total.overdue_milestones
    assert sum(c.reporting.expected for c in figures.cities) == figures.total.reporting.expected
    for status in ProgressStatus:
        assert sum(c.by_status[status] for c in figures.cities) == figures.total.by_status[status]
