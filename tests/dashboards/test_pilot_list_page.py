"""The 试点名单 page: list and export for every role, pilot steps and plan refinement only for those allowed."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Any

import openpyxl
import pytest

from tests.web import call_callback, login
from tracker.models import PilotStatus, Role


def response_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


@pytest.fixture
def setup(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", "焦炭", status=PilotStatus.PUBLISHED)
    pilot.published_on = dt.date(2025, 8, 1)
    db.commit()
    for name, role, city in (("czs", Role.CITY_STAFF, "长治"), ("tys", Role.CITY_STAFF, "太原"),
                             ("sheng", Role.PROVINCE_STAFF, None), ("lds", Role.LEADER, None)):  # fmt: skip
        factory.user(role, city, username=name)
    return pilot


def test_anonymous_gets_401(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id in ("plist-grid", "plist-detail", "plist-message", "plist-download"):
        assert call_callback(client, app, output_id, {}).status_code == 401


def test_list_export_and_start_by_the_city(client, app, setup, db) -> None:  # type: ignore[no-untyped-def]
    pilot = setup
    login(client, "czs")
    rows = response_of(call_callback(client, app, "plist-grid", {"plist-scope": "published"}))["plist-grid"][
        "rowData"
    ]
    assert [r["id"] for r in rows] == [pilot.id]
    download = response_of(call_callback(client, app, "plist-download", {"plist-export": 1}))[
        "plist-download"
    ]["data"]
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"]))).active
    assert sheet["A1"].value == "产品碳足迹管理体系试点名单" and sheet["C4"].value == pilot.organisation.name
    selected = [{"id": pilot.id}]
    detail = response_of(call_callback(client, app, "plist-detail", {"plist-grid": selected}))
    assert "d-none" not in detail["plist-step-start"]["className"]
    assert "d-none" in detail["plist-step-withdraw"]["className"]
    started = response_of(
        call_callback(client, app, "plist-message", {"plist-step-start": 1, "plist-grid": selected})
    )
    assert "已办理：启动实施" in json.dumps(started, ensure_ascii=False)
    db.refresh(pilot)
    assert pilot.status is PilotStatus.IN_IMPLEMENTATION
    refused = response_of(call_callback(client, app, "plist-message", {"plist-step-withdraw": 1, "plist-grid": selected,
                                                                       "plist-reason": "x"}))  # fmt: skip
    assert (
        "仅限省级" in json.dumps(refused, ensure_ascii=False)
        and pilot.status is PilotStatus.IN_IMPLEMENTATION
    )


def test_plan_refinement_with_version_check(client, app, setup, db) -> None:  # type: ignore[no-untyped-def]
    pilot = setup
    login(client, "czs")
    selected = [{"id": pilot.id}]
    detail = response_of(call_callback(client, app, "plist-detail", {"plist-grid": selected}))
    tasks = detail["plist-tasks"]["rowData"]
    version = detail["plist-version"]["data"]
    tasks[0] |= {"weight": 3, "planned_end": "2026年3月31日", "responsible_unit": "能源部"}
    saved = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": tasks, "plist-milestones": [],
        "plist-version": version}))  # fmt: skip
    assert "计划调整已保存" in json.dumps(saved, ensure_ascii=False)
    db.refresh(pilot)
    assert pilot.tasks[0].planned_end == dt.date(2026, 3, 31) and pilot.tasks[0].responsible_unit == "能源部"
    assert pilot.version == version + 1
    stale = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": tasks, "plist-milestones": [],
        "plist-version": version}))  # fmt: skip
    assert "已被他人修改" in json.dumps(stale, ensure_ascii=False)
    tasks[0] |= {"planned_end": "2025-01-01"}
    bad = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": tasks, "plist-milestones": [],
        "plist-version": version + 1}))  # fmt: skip
    assert "计划结束早于开始" in json.dumps(bad, ensure_ascii=False)


def test_other_city_and_leader_get_nothing(client, app, setup, db) -> None:  # type: ignore[no-untyped-def]
    pilot = setup
    selected = [{"id": pilot.id}]
    login(client, "tys")
    assert call_callback(client, app, "plist-detail", {"plist-grid": selected}).status_code == 204
    assert (
        call_callback(
            client, app, "plist-message", {"plist-step-start": 1, "plist-grid": selected}
        ).status_code
        == 204
    )
    rows = response_of(call_callback(client, app, "plist-grid", {"plist-scope": "all"}))["plist-grid"][
        "rowData"
    ]
    assert rows == []
    leader = app.server.test_client()
    login(leader, "lds")
    assert call_callback(leader, app, "plist-detail", {"plist-grid": selected}).status_code == 200
    assert (
        call_callback(
            leader, app, "plist-message", {"plist-step-start": 1, "plist-grid": selected}
        ).status_code
        == 204
    )
    assert call_callback(leader, app, "plist-message", {"plist-save-plan": 1, "plist-grid": selected,
                                                        "plist-tasks": [], "plist-version": 1}).status_code == 204  # fmt: skip
    db.refresh(pilot)
    assert pilot.status is PilotStatus.PUBLISHED


def test_participants_are_added_changed_and_removed(client, app, setup, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.models import AuditEvent, PilotParticipant

    pilot = setup
    db.add(PilotParticipant(pilot_id=pilot.id, position=1, unit_name="示例大学", responsibility="核算方法"))
    db.add(PilotParticipant(pilot_id=pilot.id, position=2, unit_name="示例协会", responsibility="宣传推广"))
    db.commit()
    login(client, "czs")
    selected = [{"id": pilot.id}]
    detail = response_of(call_callback(client, app, "plist-detail", {"plist-grid": selected}))
    units = detail["plist-participants"]["rowData"]
    assert [u["unit_name"] for u in units] == ["示例大学", "示例协会"]
    added = response_of(call_callback(client, app, "plist-participants", {"plist-add-participant": 1,
                                      "plist-participants": units, "plist-grid": selected}))  # fmt: skip
    units = added["plist-participants"]["rowData"]
    assert len(units) == 3 and units[-1]["id"] is None
    units[0]["responsibility"] = "核算方法与数据质量"
    units[1]["unit_name"] = ""  # emptied: removed
    units[2] |= {"unit_name": "示例检测中心", "responsibility": "计量与检测"}
    saved = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": detail["plist-tasks"]["rowData"],
        "plist-milestones": [], "plist-version": detail["plist-version"]["data"], "plist-participants": units}))  # fmt: skip
    assert "计划调整已保存" in json.dumps(saved, ensure_ascii=False)
    db.expire_all()
    rows = db.scalars(select(PilotParticipant).where(PilotParticipant.pilot_id == pilot.id)
                      .order_by(PilotParticipant.position)).all()  # fmt: skip
    assert [(r.unit_name, r.responsibility) for r in rows] == [("示例大学", "核算方法与数据质量"),
                                                              ("示例检测中心", "计量与检测")]  # fmt: skip
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "pilot_participants")))
    assert {"update", "delete"} <= actions
    # Another city's participants grid cannot be touched, even by a hand-made POST.
    other = app.server.test_client()
    login(other, "tys")
    assert call_callback(other, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": [], "plist-milestones": [],
        "plist-version": pilot.version, "plist-participants": []}).status_code == 204  # fmt: skip
    assert len(db.scalars(select(PilotParticipant).where(PilotParticipant.pilot_id == pilot.id)).all()) == 2


def test_a_custom_task_and_a_new_milestone_join_the_plan(client, app, setup, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.models import Milestone, Task, TaskTemplate

    pilot = setup
    pilot.tasks[0].template_id = db.scalars(select(TaskTemplate.id)).first()  # a standard task
    db.commit()
    login(client, "czs")
    selected = [{"id": pilot.id}]
    detail = response_of(call_callback(client, app, "plist-detail", {"plist-grid": selected}))
    tasks, version = detail["plist-tasks"]["rowData"], detail["plist-version"]["data"]
    standard_title = tasks[0]["title"]
    grown = response_of(call_callback(client, app, "plist-tasks", {"plist-add-task": 1, "plist-tasks": tasks,
                                      "plist-milestones": [], "plist-grid": selected}))  # fmt: skip
    tasks = grown["plist-tasks"]["rowData"]
    assert (
        tasks[-1]["id"] is None
        and tasks[-1]["custom"]
        and tasks[-1]["planned_start"] == tasks[0]["planned_start"]
    )
    added = response_of(call_callback(client, app, "plist-milestones", {"plist-add-milestone": 1, "plist-tasks": tasks,
                                      "plist-milestones": [], "plist-grid": selected}))  # fmt: skip
    milestones = added["plist-milestones"]["rowData"]
    tasks[-1] |= {"title": "碳标识认证申请", "weight": 2, "responsible_unit": "质量部"}
    tasks[0]["title"] = "改了标准任务的名称"  # not a custom task: its title stays the template's
    milestones[-1] |= {"title": "取得碳标识证书", "indicator": "证书", "target_value": "1"}
    blank = {"id": None, "title": "", "weight": 1, "planned_start": tasks[0]["planned_start"],
             "planned_end": tasks[0]["planned_end"]}  # a new row left empty is not saved  # fmt: skip
    saved = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": [*tasks, blank], "plist-milestones": milestones,
        "plist-version": version}))  # fmt: skip
    assert "计划调整已保存" in json.dumps(saved, ensure_ascii=False)
    db.expire_all()
    rows = db.scalars(select(Task).where(Task.pilot_id == pilot.id).order_by(Task.position)).all()
    assert rows[0].title == standard_title
    assert (rows[-1].title, rows[-1].template_id, rows[-1].responsible_unit) == (
        "碳标识认证申请",
        None,
        "质量部",
    )
    assert rows[-1].number == str(len(rows))
    assert db.scalars(select(Milestone.title).where(Milestone.pilot_id == pilot.id)).all() == [
        "取得碳标识证书"
    ]
    # A custom task renamed to nothing is refused, with the row named.
    detail = response_of(call_callback(client, app, "plist-detail", {"plist-grid": selected}))
    tasks = detail["plist-tasks"]["rowData"]
    tasks[-1]["title"] = " "
    refused = response_of(call_callback(client, app, "plist-message", {
        "plist-save-plan": 1, "plist-grid": selected, "plist-tasks": tasks, "plist-milestones": [],
        "plist-version": detail["plist-version"]["data"]}))  # fmt: skip
    assert "须填写任务名称" in json.dumps(refused, ensure_ascii=False)
