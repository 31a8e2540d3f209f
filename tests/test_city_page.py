"""The city workspace (/city): what the city owes this period with the same figures as the progress
function, its drafts and returned updates, and only its own city whatever the address asks for."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web import call_callback, login
from tracker.models import ProgressUpdate, Role, UpdateStatus
from tracker.periods import Frequency, Reporting, reporting_period
from tracker.progress import load_progress

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
