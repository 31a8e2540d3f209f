"""The 省级工作方案 page over HTTP: provincial staff enter and submit, the admin accepts; every
callback refuses the anonymous (401), leaders where it writes, and city users altogether."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.web import call_callback, component, login
from tracker.core.periods import Reporting, reporting_period
from tracker.models import Role, UpdateStatus, WorkflowStep, WorkPlanUpdate
from tracker.progress.workplan import (
    WorkPlanEntry,
    assignments,
    save_work_plan_update,
    submit_work_plan_update,
)

TZ = ZoneInfo("Asia/Shanghai")
TASK3 = "3. 落实产品碳标识认证制度"


def body(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


def text(answer: dict[str, Any], output_id: str, prop: str = "children") -> str:
    return json.dumps(answer[output_id][prop], ensure_ascii=False)


@pytest.fixture
def setup(factory):  # type: ignore[no-untyped-def]
    today = dt.datetime.now(TZ).date()
    return {
        "period": reporting_period(today, Reporting()),
        "staff": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "admin": factory.user(Role.PROVINCE_ADMIN, username="guanli"),
        "leader": factory.user(Role.LEADER, None, username="lingdao"),
        "city_leader": factory.user(Role.LEADER, "大同", username="dtld"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
    }


def task3_row(client, app, period) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    rows = body(call_callback(client, app, "wp-grid", {"wp-period": period.key}))["wp-grid"]["rowData"]
    return next(r for r in rows if r["task"] == TASK3)


def submitted_update(db, setup) -> WorkPlanUpdate:  # type: ignore[no-untyped-def]
    """Task 3's update for the period, submitted by provincial staff."""
    line = next(a for a in assignments(db, setup["staff"], setup["period"]) if a.task.number == 3)
    now = dt.datetime.now(dt.UTC)
    update = save_work_plan_update(db, setup["staff"], line.task.id, line.department.id, setup["period"],
                                   WorkPlanEntry(20, "起草细则"), today=now.astimezone(TZ).date())  # fmt: skip
    update = submit_work_plan_update(db, setup["staff"], update.id, version=update.version, reporting=Reporting(),
                                     now=now, tz=TZ)  # fmt: skip
    db.commit()
    return update


def test_anonymous_gets_401(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id, values in (("wp-grid", {}), ("wp-form", {}), ("wp-message", {"wp-save": 1}),
                              ("wp-message", {"wp-accept": 1})):  # fmt: skip
        assert call_callback(client, app, output_id, values).status_code == 401


def test_staff_enter_and_submit_and_the_admin_accepts(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    period = setup["period"]
    login(client, "sheng")
    loaded = body(call_callback(client, app, "wp-grid", {"wp-period": period.key}))
    assert len(loaded["wp-grid"]["rowData"]) == len(assignments(db, setup["staff"], period))
    assert "应报" in text(loaded, "wp-completeness") and "已报0项" in text(loaded, "wp-completeness")
    row = task3_row(client, app, period)
    assert (row["department"], row["duty"], row["status"]) == ("省市场监管局", "牵头", "未填报")
    shown = body(call_callback(client, app, "wp-form", {"wp-grid": [row], "wp-period": period.key}))
    assert shown["wp-form"]["hidden"] is False and shown["wp-version"]["data"] is None
    assert shown["wp-save"]["disabled"] is False and shown["wp-accept"]["disabled"] is True
    form = {"wp-grid": [row], "wp-period": period.key, "wp-progress": 150, "wp-work-done": "起草认证实施细则"}
    bad = body(call_callback(client, app, "wp-message", {**form, "wp-save": 1}))
    assert "未写入任何数据" in text(bad, "wp-message") and "0–100" in text(bad, "wp-message")
    assert db.scalar(select(func.count()).select_from(WorkPlanUpdate)) == 0
    saved = body(call_callback(client, app, "wp-message", {**form, "wp-progress": 30, "wp-save": 1}))
    assert "已保存草稿" in text(saved, "wp-message")
    update = db.scalars(select(WorkPlanUpdate)).one()
    assert (update.status, update.progress, update.version) == (UpdateStatus.DRAFT, 30, 1)
    shown = body(call_callback(client, app, "wp-form", {"wp-grid": [row], "wp-period": period.key}))
    assert (shown["wp-progress"]["value"], shown["wp-work-done"]["value"], shown["wp-version"]["data"]) == (
        30, "起草认证实施细则", 1)  # fmt: skip
    sent = body(
        call_callback(client, app, "wp-message", {**form, "wp-progress": 35, "wp-version": 1, "wp-submit": 1})
    )
    assert "已提交" in text(sent, "wp-message")
    db.refresh(update)
    assert (update.status, update.progress) == (UpdateStatus.SUBMITTED, 35)
    # Staff may not accept what they entered, even by posting the button.
    refused = body(call_callback(client, app, "wp-message", {"wp-accept": 1, "wp-grid": [row], "wp-period": period.key,
                                                             "wp-version": update.version}))  # fmt: skip
    assert "仅限省级管理员审核" in text(refused, "wp-message")
    client = app.server.test_client()
    login(client, "guanli")
    shown = body(call_callback(client, app, "wp-form", {"wp-grid": [row], "wp-period": period.key}))
    assert shown["wp-accept"]["disabled"] is False and shown["wp-save"]["disabled"] is True
    assert "sheng　提交" in text(shown, "wp-history")
    review = {"wp-grid": [row], "wp-period": period.key, "wp-version": shown["wp-version"]["data"]}
    no_reason = body(call_callback(client, app, "wp-message", {**review, "wp-return": 1, "wp-reason": " "}))
    assert "退回须填写理由" in text(no_reason, "wp-message")
    accepted = body(call_callback(client, app, "wp-message", {**review, "wp-accept": 1}))
    assert "已采纳" in text(accepted, "wp-message")
    db.refresh(update)
    assert update.status is UpdateStatus.ACCEPTED
    stale = body(call_callback(client, app, "wp-message", {**review, "wp-accept": 1}))
    assert "已被他人修改" in text(stale, "wp-message")
    loaded = body(call_callback(client, app, "wp-grid", {"wp-period": period.key}))
    assert "已采纳1项" in text(loaded, "wp-completeness")
    assert task3_row(client, app, period)["status"] == "已采纳"


def test_a_department_that_does_not_report_on_the_task_is_refused(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    period = setup["period"]
    login(client, "sheng")
    row = task3_row(client, app, period)
    sthjt = next(a.department.id for a in assignments(db, setup["staff"], period) if a.task.number == 12)
    forged = [{**row, "department_id": sthjt}]  # 省生态环境厅 only takes part in task 3
    assert (
        call_callback(client, app, "wp-form", {"wp-grid": forged, "wp-period": period.key}).status_code == 204
    )
    refused = body(call_callback(client, app, "wp-message", {"wp-grid": forged, "wp-period": period.key, "wp-progress": 5,
                                                             "wp-save": 1}))  # fmt: skip
    assert "不是第3项任务的牵头或负责部门" in text(refused, "wp-message")
    malformed = [{**row, "task_id": "3"}]
    assert call_callback(client, app, "wp-form", {"wp-grid": malformed}).status_code == 204
    assert call_callback(client, app, "wp-message", {"wp-grid": malformed, "wp-save": 1}).status_code == 204
    assert db.scalar(select(func.count()).select_from(WorkPlanUpdate)) == 0


def test_leaders_read_but_every_write_is_refused(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    update = submitted_update(db, setup)
    period = setup["period"]
    login(client, "lingdao")
    row = task3_row(client, app, period)
    assert row["status"] == "已提交待审核"
    shown = body(call_callback(client, app, "wp-form", {"wp-grid": [row], "wp-period": period.key}))
    assert shown["wp-work-done"]["value"] == "起草细则"
    writes = ({"wp-save": 1, "wp-progress": 90, "wp-work-done": "改"}, {"wp-submit": 1, "wp-progress": 90},
              {"wp-accept": 1}, {"wp-return": 1, "wp-reason": "退回"})  # fmt: skip
    for values in writes:
        answer = call_callback(client, app, "wp-message", {**values, "wp-grid": [row], "wp-period": period.key,
                                                           "wp-version": update.version})  # fmt: skip
        assert answer.status_code == 204, values
    db.refresh(update)
    assert (update.status, update.progress, update.version) == (UpdateStatus.SUBMITTED, 20, 2)


@pytest.mark.parametrize("username", ["czu", "dtld"])
def test_city_users_get_nothing_and_change_nothing(client, app, db, setup, username: str) -> None:  # type: ignore[no-untyped-def]
    update = submitted_update(db, setup)
    period = setup["period"]
    row = {"id": "x", "task_id": update.task_id, "department_id": update.department_id}
    login(client, username)
    calls = (("wp-grid", {"wp-period": period.key}), ("wp-form", {"wp-grid": [row], "wp-period": period.key}),
             ("wp-message", {"wp-save": 1, "wp-grid": [row], "wp-progress": 99, "wp-work-done": "改"}),
             ("wp-message", {"wp-submit": 1, "wp-grid": [row], "wp-version": update.version}),
             ("wp-message", {"wp-accept": 1, "wp-grid": [row], "wp-version": update.version}),
             ("wp-message", {"wp-return": 1, "wp-grid": [row], "wp-version": update.version, "wp-reason": "x"}))  # fmt: skip
    for output_id, values in calls:
        assert call_callback(client, app, output_id, values).status_code == 204, values
    db.refresh(update)
    assert (update.status, update.progress, update.version) == (UpdateStatus.SUBMITTED, 20, 2)
    assert (
        db.scalar(
            select(func.count()).select_from(WorkflowStep).where(WorkflowStep.subject_type == "workplan")
        )
        == 1
    )


def test_the_menu_offers_the_page_to_provincial_users_only(client, app, setup) -> None:  # type: ignore[no-untyped-def]
    def menu(username: str) -> str:
        fresh = app.server.test_client()
        login(fresh, username)
        return json.dumps(json.loads(fresh.get("/_dash-layout").get_data(as_text=True)))

    assert '"/work-plan"' not in menu("czu") and '"/updates"' in menu("czu")
    assert '"/work-plan"' in menu("sheng") and '"/work-plan"' in menu("lingdao")


@pytest.mark.parametrize(("username", "entry", "review"), [
    ("sheng", True, False), ("guanli", True, True), ("lingdao", False, False),
])  # fmt: skip
def test_the_page_shows_each_role_its_buttons(
    client, app, setup, username: str, entry: bool, review: bool
) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    page = call_callback(client, app, "_pages_content", {"_pages_location": "/work-plan"}).get_json()
    assert "省级工作方案" in json.dumps(page, ensure_ascii=False)
    assert setup["period"].key in json.dumps(component(page, "wp-period"))  # the period being reported now
    assert component(page, "wp-entry-box")["hidden"] is not entry
    assert component(page, "wp-review-box")["hidden"] is not review
    assert component(page, "wp-progress")["disabled"] is not entry  # leaders read, the form is locked


@pytest.mark.parametrize("username", ["czu", "dtld"])
def test_city_users_are_shown_no_page(client, app, setup, username: str) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    page = json.dumps(call_callback(client, app, "_pages_content", {"_pages_location": "/work-plan"}).get_json(),
                      ensure_ascii=False)  # fmt: skip
    assert "没有访问此页面的权限" in page and "重点任务" not in page


def test_in_english_the_plan_names_its_sections_tasks_and_departments_in_english(client, app, setup) -> None:  # type: ignore[no-untyped-def]
    """The catalogue's English names (departments.csv, work_plan_tasks.csv); the reader's own words
    (the update's texts) and the plan's assignment sentences stay as written."""
    period = setup["period"]
    login(client, "sheng")
    client.get("/lang/en")
    rows = body(call_callback(client, app, "wp-grid", {"wp-period": period.key}))["wp-grid"]["rowData"]
    row = next(r for r in rows if r["task"].startswith("3. "))
    assert row["task"] == "3. Put the product carbon label certification system into practice"
    assert row["group"] == "Part 1: Build the carbon footprint management system faster"
    assert row["department"] == "Administration for Market Regulation"
    assert not [r for r in rows if re.search(r"[\u4e00-\u9fff]", r["task"] + r["group"] + r["department"])]
    client.get("/lang/zh_CN")
    assert task3_row(client, app, period)["department"] == "省市场监管局"
