"""The 概览 overview: its figures are the progress and completeness functions' results for the same
filters; a city user's overview counts only their city, whatever ids a hand-made request carries;
filters come from the address and the figures link to the lists behind them."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest

from tests.dashboards.test_workplan_page import body
from tests.factories import NOV
from tests.web import call_callback, component, login
from tracker.delivery.bulletin_archive import archive_bulletin
from tracker.models import Milestone, PilotStatus, Role, Severity
from tracker.monitoring.overview import overview
from tracker.monitoring.registry import RegistryFilters
from tracker.progress.completeness import completeness
from tracker.progress.expected import ProgressStatus, Thresholds, load_progress

ON = dt.date(2025, 12, 10)


@pytest.fixture
def world(db, factory):  # type: ignore[no-untyped-def]
    a = factory.pilot("长治", name="长治甲试点")
    b = factory.pilot("长治", "玻璃", name="长治乙试点")
    c = factory.pilot("太原", "钢铁", name="太原丙试点")
    d = factory.pilot("长治", name="长治退出试点", status=PilotStatus.WITHDRAWN)
    factory.accepted_update(a, NOV.start, NOV.end, "30")
    factory.accepted_update(c, NOV.start, NOV.end, "60")
    db.add(Milestone(pilot_id=a.id, title="建成数据采集系统", due_date=ON + dt.timedelta(days=12)))
    db.add(Milestone(pilot_id=c.id, title="太原的目标", due_date=ON + dt.timedelta(days=5)))
    db.add(Milestone(pilot_id=b.id, title="四十天后", due_date=ON + dt.timedelta(days=40)))
    db.commit()
    return {"pilots": (a, b, c, d), "province": factory.user(Role.PROVINCE_STAFF, username="sheng"),
            "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
            "leader": factory.user(Role.LEADER, None, username="lingdao")}  # fmt: skip


def test_the_figures_are_the_progress_and_completeness_functions_results(db, factory, world) -> None:  # type: ignore[no-untyped-def]
    a, b, _c, d = world["pilots"]
    changzhi = factory.city("长治")
    data = overview(db, world["province"], RegistryFilters(city_ids=(changzhi.id,)), on=ON, period=NOV,
                    thresholds=Thresholds())  # fmt: skip
    progress = load_progress(db, [a.id, b.id], ON)  # the withdrawn pilot is not measured
    assert data.pilots == 3 and data.by_stage[PilotStatus.WITHDRAWN] == 1
    assert data.by_progress == {s: Counter(p.status for p in progress.values())[s] for s in ProgressStatus}
    line = next(c for c in completeness(db, world["province"], NOV) if c.city_id == changzhi.id)
    assert (data.reporting.expected, data.reporting.submitted, data.reporting.on_time) == (
        line.expected, line.submitted, line.on_time)  # fmt: skip
    points = {p.pilot_id: (p.expected, p.actual) for p in data.points}
    assert points == {pid: (float(p.expected), float(p.actual)) for pid, p in progress.items()}
    assert d.id not in points
    assert [m.title for m in data.upcoming] == [
        "建成数据采集系统"
    ]  # 太原's is filtered out, 40 days is too far
    (city_line,) = data.cities
    assert (city_line.key, city_line.pilots) == ("长治市", 2)


def test_a_city_users_overview_counts_only_their_city(db, factory, world) -> None:  # type: ignore[no-untyped-def]
    city_user = world["city"]
    own = overview(db, city_user, RegistryFilters(), on=ON, period=NOV, thresholds=Thresholds())
    assert own.pilots == 3 and {p.city for p in own.points} == {"长治"}
    assert own.reporting.expected == 2  # 甲 and 乙 owe November; 太原's pilot is not counted
    other = overview(db, city_user, RegistryFilters(city_ids=(factory.city("太原").id,)), on=ON, period=NOV,
                     thresholds=Thresholds())  # fmt: skip
    assert other.pilots == 0 and other.points == [] and other.reporting.expected == 0


def test_filters_narrow_every_figure(db, factory, world) -> None:  # type: ignore[no-untyped-def]
    glass = factory.product("玻璃").id
    data = overview(db, world["province"], RegistryFilters(product_ids=(glass,)), on=ON, period=NOV,
                    thresholds=Thresholds())  # fmt: skip
    assert data.pilots == 1 and [p.name for p in data.points] == ["长治乙试点"]
    assert [r.key for r in data.products] == ["玻璃"]
    for batch, count in ((1, 4), (2, 0)):  # every factory pilot is of the first batch
        chosen = overview(db, world["province"], RegistryFilters(batch_numbers=(batch,)), on=ON, period=NOV,
                          thresholds=Thresholds())  # fmt: skip
        assert chosen.pilots == count, batch
    withdrawn = overview(db, world["province"], RegistryFilters(statuses=("withdrawn",)), on=ON, period=NOV,
                         thresholds=Thresholds())  # fmt: skip
    assert withdrawn.pilots == 1 and withdrawn.points == [] and withdrawn.open_flags[Severity.HIGH] == 0
    everything = overview(
        db, world["province"], RegistryFilters(), on=ON, period=NOV, thresholds=Thresholds()
    )
    assert everything.pilots == 4 and {r.key for r in everything.cities} == {"长治市", "太原市"}


def cards(client: Any, app: Any, values: dict[str, Any] | None = None) -> dict[str, Any]:
    return body(call_callback(client, app, "ov-cards", values or {}))


def figure(answer: dict[str, Any], card_id: str) -> str:
    return str(component(answer["ov-cards"]["children"], card_id)["children"])


def test_over_http_a_city_user_sees_only_their_city_even_when_asking_for_another(
    client, app, factory, world
) -> None:  # type: ignore[no-untyped-def]
    login(client, "czu")
    answer = cards(client, app)
    assert figure(answer, "ov-total") == "3"
    names = {point[1] for trace in answer["ov-scatter"]["figure"]["data"] for point in trace["customdata"]}
    assert names == {"长治甲试点", "长治乙试点"}
    hijack = cards(client, app, {"ov-city": [factory.city("太原").id]})
    assert figure(hijack, "ov-total") == "0" and "太原丙试点" not in json.dumps(hijack, ensure_ascii=False)
    client.post("/logout")
    login(client, "sheng")
    assert figure(cards(client, app), "ov-total") == "4"


def test_anonymous_gets_nothing_and_a_leader_reads(client, app, world) -> None:  # type: ignore[no-untyped-def]
    assert call_callback(client, app, "ov-cards", {}).status_code == 401
    login(client, "lingdao")
    assert figure(cards(client, app), "ov-total") == "4"


def test_the_address_sets_the_filters_and_the_figures_link_to_their_lists(
    client, app, db, factory, world
) -> None:  # type: ignore[no-untyped-def]
    changzhi, taiyuan = factory.city("长治").id, factory.city("太原").id
    login(client, "sheng")
    page = body(call_callback(client, app, "_pages_content", {"_pages_location": "/",
                                                               "_pages_location.search": f"?city={changzhi}&status=in_implementation"}))  # fmt: skip
    assert component(page, "ov-city")["value"] == [changzhi]
    assert component(page, "ov-status")["value"] == ["in_implementation"]
    answer = cards(client, app, {"ov-city": [changzhi], "ov-status": ["in_implementation"]})
    assert answer["ov-share"]["href"] == f"/?city={changzhi}&status=in_implementation"
    link = component(answer["ov-cards"]["children"], "ov-total")
    assert link is not None
    text = json.dumps(answer["ov-cards"], ensure_ascii=False)
    assert f"/pilots?city={changzhi}&status=in_implementation" in text and f"/flags?city={changzhi}" in text
    bars = answer["ov-cities"]["figure"]["data"][0]
    assert bars["customdata"] == [f"/pilots?city={changzhi}"]
    registry = body(call_callback(client, app, "_pages_content", {"_pages_location": "/pilots",
                                                                   "_pages_location.search": f"?city={changzhi}"}))  # fmt: skip
    assert component(registry, "registry-city")["value"] == [changzhi]
    client.post("/logout")
    login(client, "czu")  # another city's id in the address is dropped
    page = body(call_callback(client, app, "_pages_content", {"_pages_location": "/",
                                                               "_pages_location.search": f"?city={taiyuan}"}))  # fmt: skip
    assert component(page, "ov-city")["value"] is None


def test_recent_bulletins_follow_the_users_scope(client, app, db, factory, world) -> None:  # type: ignore[no-untyped-def]
    province_id = factory.city("长治").province_id
    for cut, city in (("province", None), ("city-140100", "太原")):
        archive_bulletin(db, province_id=province_id, kind="monthly", period="2025-11", cut=cut,
                         city_id=factory.city(city).id if city else None, number=1, issued_on=dt.date(2025, 12, 8),
                         title=f"通报 {cut}", summary="", file_name=f"{cut}.xlsx", content_type="x", content=b"x",
                         run_id=None, now=dt.datetime(2025, 12, 8, tzinfo=dt.UTC))  # fmt: skip
    db.commit()
    login(client, "sheng")
    shown = json.dumps(cards(client, app)["ov-bulletins"], ensure_ascii=False)
    assert "通报 province" in shown and "通报 city-140100" in shown
    client.post("/logout")
    login(client, "czu")
    shown = json.dumps(cards(client, app)["ov-bulletins"], ensure_ascii=False)
    assert "通报" not in shown.replace("调度通报", "") and "暂无调度通报" in shown


def test_the_map_places_each_city_at_its_seat_and_the_categories_have_their_own_chart(
    client, app, factory, world
) -> None:  # type: ignore[no-untyped-def]
    from dashboards.pages.home import city_outlines, city_seats

    login(client, "sheng")
    answer = cards(client, app)
    *areas, bubbles = answer["ov-map"]["figure"]["data"]
    # The 11 cities' outlines (shipped in the package) filled by gap band; cities with no pilot in grey.
    assert sorted(a["name"] for a in areas) == sorted(city_outlines()) and len(city_outlines()) == 11
    filled = {a["name"]: a["fillcolor"] for a in areas}
    assert filled["140400"] != "#e9ecef" and filled["140100"] != "#e9ecef"
    assert {code for code, colour in filled.items() if colour == "#e9ecef"} == set(city_outlines()) - {
        "140400",
        "140100",
    }
    assert all(a["fill"] == "toself" and a["hoveron"] == "fills" for a in areas)
    placed = dict(zip(bubbles["text"], zip(bubbles["x"], bubbles["y"], strict=True), strict=True))
    assert placed == {"长治": city_seats()["140400"], "太原": city_seats()["140100"]}
    links = {row[0] for row in bubbles["customdata"]}
    assert links == {f"/pilots?city={factory.city('长治').id}", f"/pilots?city={factory.city('太原').id}"}
    # every city of the catalogue has a seat in the shipped file
    assert len(city_seats()) == 11
    categories = answer["ov-categories"]["figure"]["data"]
    assert [trace["x"] for trace in categories] == [["产品碳足迹管理试点"]] * 2
    client.post("/logout")
    login(client, "czu")  # a city user's map holds their city alone
    *areas, bubbles = cards(client, app)["ov-map"]["figure"]["data"]
    assert bubbles["text"] == ["长治"]
    hidden = [a for a in areas if a["name"] != "140400"]  # others' areas: an outline, nothing on hover
    assert len(hidden) == 10 and all(a["hoverinfo"] == "skip" and a["fillcolor"] == "#e9ecef" for a in hidden)


def test_cached_figures_follow_every_change_and_never_cross_scopes(client, app, db, factory, world) -> None:  # type: ignore[no-untyped-def]
    """dashboards/cache.py: the same request is served from the cache while nothing changed; any
    audited change (here a new pilot) shows at once; a city user never gets the province's entry,
    nor an English reader the Chinese one."""
    login(client, "sheng")
    first = cards(client, app)
    assert first == cards(client, app) and figure(first, "ov-total") == "4"
    factory.pilot("太原", "钢铁", name="太原新试点")  # audited like every change
    db.commit()
    assert figure(cards(client, app), "ov-total") == "5"
    client.post("/logout")
    login(client, "czu")
    assert figure(cards(client, app), "ov-total") == "3"  # same filters, the city's own scope
    client.get("/lang/en")
    english = json.dumps(cards(client, app), ensure_ascii=False)
    assert "Submission completeness" in english and "报送完整率" not in english


def test_sign_ins_and_downloads_leave_cached_figures_valid_and_changes_do_not(db, factory) -> None:  # type: ignore[no-untyped-def]
    """The data version moves with a change of data, not with a login, a logout or a download."""
    from dashboards.cache import data_version
    from tracker.audit import trail as audit

    before = data_version(db)
    for action in ("login", "logout", "login_failed", "export", "download"):
        audit.record(db, action, "users")
    db.commit()
    assert data_version(db) == before
    factory.pilot("太原", "钢铁", name="太原又一试点")  # audited as a change
    assert data_version(db)[1] > before[1]


def test_the_pilots_needing_attention_are_the_readers_most_urgent_first_linked_to_their_pages(
    client, app, world
) -> None:  # type: ignore[no-untyped-def]
    a, b, c, _d = world["pilots"]
    login(client, "sheng")
    page = body(call_callback(client, app, "_pages_content", {"_pages_location": "/"}))["_pages_content"]
    grid = component(page, "ov-attention")
    assert next(col for col in grid["columnDefs"] if col["field"] == "pilot")["cellRenderer"] == "PilotLink"
    rows = cards(client, app)["ov-attention"]["rowData"]
    # All three are seriously behind with milestones overdue (the same reasons): the largest gap first;
    # the withdrawn pilot is not measured, so not listed.
    assert [r["pilot_id"] for r in rows] == [b.id, a.id, c.id]
    assert rows[0]["gap"] > rows[1]["gap"] > rows[2]["gap"]
    assert all(r["reasons"].startswith("严重滞后；里程碑逾期") for r in rows) and rows[0]["city"] == "长治"
    client.get("/lang/en")
    rows = cards(client, app)["ov-attention"]["rowData"]
    assert (
        rows[0]["reasons"].startswith("Seriously behind; Overdue milestone") and rows[0]["city"] == "Changzhi"
    )
    assert rows[0]["status"] == "Seriously behind"
    client.post("/logout")
    login(client, "czu")  # a city bureau: its own pilots only
    assert [r["pilot_id"] for r in cards(client, app)["ov-attention"]["rowData"]] == [b.id, a.id]
