"""The 调度填报 page over HTTP: a city downloads the template, uploads it filled and submitted; the
province accepts; every callback refuses the anonymous, leaders where it writes, and other cities."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from tests.web import call_callback, login
from tracker.core.periods import Frequency, Reporting, reporting_period
from tracker.models import ProgressUpdate, Role, UpdateStatus


def body(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


@pytest.fixture
def setup(factory):  # type: ignore[no-untyped-def]
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {
        "pilot": factory.pilot("长治", start=today - dt.timedelta(days=200)),
        "theirs": factory.pilot("太原", product="钢铁", start=today - dt.timedelta(days=200)),
        "period": reporting_period(today, Reporting(Frequency.MONTHLY, 5, 10)),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyu"),
        "province": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, username="ldu"),
    }


def filled(template: bytes, percent: object) -> str:
    book = openpyxl.load_workbook(io.BytesIO(template))
    tasks, texts = book["任务进度"], book["工作进展"]
    tasks.cell(row=4, column=[c.value for c in tasks[3]].index("本期进度（%）") + 1, value=percent)
    texts.cell(row=4, column=[c.value for c in texts[3]].index("本期工作进展") + 1, value="完成核算")
    out = io.BytesIO()
    book.save(out)
    return "data:application/octet-stream;base64," + base64.b64encode(out.getvalue()).decode()


def test_anonymous_gets_401(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id in ("upd-grid", "upd-detail", "upd-download", "upd-message", "upd-review-message"):
        assert call_callback(client, app, output_id, {}).status_code == 401


def test_city_fills_the_template_and_the_province_accepts(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    period = setup["period"]
    login(client, "czu")
    grid = body(call_callback(client, app, "upd-grid", {"upd-period": period.key}))
    rows = grid["upd-grid"]["rowData"]
    assert [r["pilot"] for r in rows] == [setup["pilot"].name] and rows[0]["status"] == "未填报"
    assert "应报" in json.dumps(grid["upd-completeness"]["children"], ensure_ascii=False)
    sent = body(call_callback(client, app, "upd-download", {"upd-template": 1, "upd-period": period.key}))
    template = base64.b64decode(sent["upd-download"]["data"]["content"])
    bad = call_callback(client, app, "upd-message", {"upd-upload": filled(template, 101), "upd-upload.filename": "t.xlsx",
                                                     "upd-submit": ["submit"]})  # fmt: skip
    text = json.dumps(body(bad)["upd-message"]["children"], ensure_ascii=False)
    assert "未写入任何数据" in text and "第4行 K列" in text
    assert db.scalars(select(ProgressUpdate)).first() is None
    good = call_callback(client, app, "upd-message", {"upd-upload": filled(template, 40), "upd-upload.filename": "t.xlsx",
                                                      "upd-submit": ["submit"]})  # fmt: skip
    answer = body(good)
    assert "提交1个" in json.dumps(answer["upd-message"]["children"], ensure_ascii=False)
    assert answer["upd-upload"]["contents"] is None  # emptied, so the same file can be uploaded again
    assert call_callback(client, app, "upd-message", {"upd-upload": None}).status_code == 204
    update = db.scalars(select(ProgressUpdate)).one()
    assert update.status is UpdateStatus.SUBMITTED
    # The city may not accept its own update, even by posting the button.
    row = [{"id": update.id, "version": update.version}]
    refused = call_callback(client, app, "upd-review-message", {"upd-accept": 1, "upd-grid": row})
    assert "仅限省级" in json.dumps(body(refused)["upd-review-message"]["children"], ensure_ascii=False)
    client = app.server.test_client()
    login(client, "sheng")
    rows = body(call_callback(client, app, "upd-grid", {"upd-period": period.key, "upd-view": "all"}))[
        "upd-grid"
    ]["rowData"]
    assert {r["pilot"] for r in rows} == {setup["pilot"].name, setup["theirs"].name}
    (mine,) = [r for r in rows if r["id"] == update.id]
    assert mine["status"] == "已提交待审核" and mine["row_id"] == str(update.id)
    detail = json.dumps(
        body(call_callback(client, app, "upd-detail", {"upd-grid": [mine]})), ensure_ascii=False
    )
    assert "完成核算" in detail and "1 数据采集" in detail and "40.0%" in detail and "czu　提交" in detail
    accepted = call_callback(client, app, "upd-review-message", {"upd-accept": 1, "upd-grid": [mine]})
    assert "已采纳" in json.dumps(body(accepted)["upd-review-message"]["children"], ensure_ascii=False)
    db.refresh(update)
    assert update.status is UpdateStatus.ACCEPTED
    again = call_callback(
        client, app, "upd-review-message", {"upd-accept": 1, "upd-grid": [mine]}
    )  # stale version
    assert "已被他人修改" in json.dumps(body(again)["upd-review-message"]["children"], ensure_ascii=False)


def test_other_cities_and_leaders_get_nothing(client, app, db, factory, setup) -> None:  # type: ignore[no-untyped-def]
    from tracker.progress.updates import UpdateEntry, save_update

    pilot, period = setup["pilot"], setup["period"]
    update = save_update(db, setup["city"], pilot.id, period, UpdateEntry(task_percents={pilot.tasks[0].id: 10}),
                         reporting=Reporting(), today=period.start)  # fmt: skip
    db.commit()
    row = [{"id": update.id, "version": update.version}]
    login(client, "tyu")
    rows = body(call_callback(client, app, "upd-grid", {"upd-period": period.key}))["upd-grid"]["rowData"]
    assert [r["pilot"] for r in rows] == [setup["theirs"].name]
    assert call_callback(client, app, "upd-detail", {"upd-grid": row}).status_code == 204
    assert (
        call_callback(client, app, "upd-review-message", {"upd-accept": 1, "upd-grid": row}).status_code
        == 204
    )
    client = app.server.test_client()
    login(client, "ldu")
    assert call_callback(client, app, "upd-message", {"upd-upload": "data:x;base64,AA=="}).status_code == 204
    assert call_callback(client, app, "upd-download", {"upd-template": 1}).status_code == 204
    assert (
        call_callback(
            client, app, "upd-review-message", {"upd-return": 1, "upd-grid": row, "upd-reason": "x"}
        ).status_code
        == 204
    )
    db.refresh(update)
    assert update.status is UpdateStatus.DRAFT
