"""The city workspace (/city): what the city owes this period with the same figures as the progress
function, its drafts and returned updates, and only its own city whatever the address asks for."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web import call_callback, login
from tracker.core.periods import Frequency, Reporting, reporting_period
from tracker.models import Flag, FlagStatus, ProgressUpdate, Role, Severity, UpdateStatus
from tracker.monitoring.city_workspace import city_standing
from tracker.progress.expected import RollupBy, Thresholds, load_progress, rollup

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = reporting_period(TODAY, Reporting(Frequency.MONTHLY, 5, 10))


def page(client: Any, app: Any, search: str = "") -> str:
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/city",
                                                            "_pages_location.search": search})  # fmt: skip
    assert answer.status_code == 200
    return json.dumps(json.loads(answer.get_data(as_text=True))["response"], ensure_ascii=False)


@pytest.fixture
def cities(factory, db):  # type: ignore[no-untyped-def]
    mine = factory.pilot("长治", start=TODAY - dt.timedelta(days=200), name="长治焦化碳足迹试点")
    returned = factory.pilot("长治", start=TODAY - dt.timedelta(days=200), name="长治法兰碳足迹试点")
    theirs = factory.pilot(
        "太原", product="钢铁", start=TODAY - dt.timedelta(days=200), name="太原钢铁碳足迹试点"
    )
    db.add(ProgressUpdate(pilot_id=returned.id, period_start=PERIOD.start, period_end=PERIOD.end,
                          status=UpdateStatus.RETURNED, return_reason="佐证材料不全"))  # fmt: skip
    db.commit()
    factory.user(Role.CITY_STAFF, "长治", username="czc")
    factory.user(Role.PROVINCE_STAFF, username="shc")
    factory.user(Role.LEADER, username="ldc")
    return {"mine": mine, "returned": returned, "theirs": theirs}


def test_a_city_sees_what_it_owes_with_the_progress_figures(client, app, db, cities) -> None:  # type: ignore[no-untyped-def]
    login(client, "czc")
    text = page(client, app)
    assert "长治市 · 本市工作台" in text and PERIOD.label_zh in text
    assert "长治焦化碳足迹试点" in text and "未填报" in text
    assert "已退回" in text and "佐证材料不全" in text
    figure = load_progress(db, [cities["mine"].id], TODAY)[cities["mine"].id]
    assert f"{Decimal(figure.expected).normalize():f}%" in text
    assert "太原钢铁碳足迹试点" not in text
    assert '"应报"' in text and f"/pilot?id={cities['mine'].id}" in text


def test_a_city_user_cannot_open_another_city(client, app, cities) -> None:  # type: ignore[no-untyped-def]
    login(client, "czc")
    text = page(client, app, "?city=140100")  # 太原
    assert "长治市 · 本市工作台" in text and "太原钢铁碳足迹试点" not in text


def test_the_province_chooses_a_city(client, app, cities) -> None:  # type: ignore[no-untyped-def]
    login(client, "shc")
    assert "请选择城市" in page(client, app)
    text = page(client, app, "?city=140100")
    assert "太原市 · 本市工作台" in text and "太原钢铁碳足迹试点" in text and "长治焦化" not in text
    assert "请选择城市" in page(client, app, "?city=nonsense")


def test_anonymous_gets_nothing(client, app, cities) -> None:  # type: ignore[no-untyped-def]
    client.get("/login")
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/city"})
    assert answer.status_code == 401


def add_flag(db: Any, pilot: Any, message: str, status: FlagStatus = FlagStatus.OPEN) -> Flag:
    flag = Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=Severity.HIGH,
                subject_type="update", subject_id=0, city_id=pilot.city_id, pilot_id=pilot.id,
                message_zh=message, message_en=message, evidence={}, status=status)  # fmt: skip
    db.add(flag)
    db.commit()
    return flag


def test_the_city_sees_its_open_flags_only(client, app, db, cities) -> None:  # type: ignore[no-untyped-def]
    own = add_flag(db, cities["mine"], "长治本期进度倒退")
    add_flag(db, cities["mine"], "长治已办结线索", FlagStatus.RESOLVED)
    add_flag(db, cities["theirs"], "太原本期进度倒退")
    login(client, "czc")
    text = page(client, app)
    assert "长治本期进度倒退" in text and f"/flags?id={own.id}" in text and "（共1条，去核查）" in text
    assert "长治已办结线索" not in text and "太原本期进度倒退" not in text
    assert "/flags?city=140400" in text


def test_the_citys_rank_comes_from_every_citys_progress(client, app, db, factory, cities) -> None:  # type: ignore[no-untyped-def]
    # 太原 is far ahead: its one pilot reports 90% while 长治's report nothing.
    factory.accepted_update(cities["theirs"], PERIOD.start, PERIOD.end, "90")
    standing = city_standing(db, cities["mine"].city, on=TODAY, period=PERIOD, thresholds=Thresholds())
    lines = {line.key: line for line in rollup(db, [cities["mine"], cities["returned"], cities["theirs"]], TODAY,
                                               RollupBy.CITY)}  # fmt: skip
    assert standing.cities == 2 and standing.gap == lines["长治市"].gap
    assert standing.gap_rank == (1 if lines["长治市"].gap <= lines["太原市"].gap else 2) == 2
    assert standing.completeness == Decimal(0) and standing.completeness_rank == 2
    assert standing.province_completeness == Decimal("33.3")
    login(client, "czc")
    text = page(client, app)
    assert "第2名 / 2个市" in text
    # Ranks and the province's means only: no other city's own figures or names.
    assert "太原" not in text.replace("太原市", "")  # the city links for the province are not shown here


def test_a_city_that_owes_nothing_yet_is_not_ranked_and_a_lone_city_is_not_ranked_either(db, factory) -> None:  # type: ignore[no-untyped-def]
    reporting = factory.pilot("长治", start=TODAY - dt.timedelta(days=100))
    later = factory.pilot("太原", start=TODAY + dt.timedelta(days=60))
    first = city_standing(db, reporting.city, on=TODAY, period=PERIOD, thresholds=Thresholds())
    # 长治 is the only city with pilots to measure: its figures, but no rank ("第1名/1个市" says nothing).
    assert first.completeness == Decimal(0) and first.gap is not None and first.gap > 0
    assert (first.completeness_rank, first.gap_rank, first.completeness_ranked, first.cities) == (
        None,
        None,
        0,
        0,
    )
    waiting = city_standing(db, later.city, on=TODAY, period=PERIOD, thresholds=Thresholds())
    # 太原's pilot starts later: it owes nothing, so nothing of it is counted (不适用), and it is not ranked.
    assert (waiting.completeness, waiting.completeness_rank, waiting.gap, waiting.gap_rank) == (
        None,
        None,
        None,
        None,
    )


def test_cities_level_share_no_rank(db, factory) -> None:  # type: ignore[no-untyped-def]
    a = factory.pilot("长治", start=TODAY - dt.timedelta(days=100))
    factory.pilot("太原", start=TODAY - dt.timedelta(days=100))
    standing = city_standing(db, a.city, on=TODAY, period=PERIOD, thresholds=Thresholds())
    # Both at 0% complete and the same gap: a rank would only rank a tie.
    assert standing.completeness == Decimal(0) and standing.completeness_rank is None
    assert standing.gap_rank is None and standing.gap == standing.province_gap
