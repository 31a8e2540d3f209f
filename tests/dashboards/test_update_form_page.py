"""在线填报 (/update-form): a city enters one pilot's update on the web, attaches evidence and
submits; a second editor with an old version overwrites nothing; other cities, leaders and the
anonymous get nothing, whether through the page, the callbacks or the evidence links."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.web import call_callback, login
from tracker.core.periods import Frequency, Reporting, reporting_period
from tracker.models import Milestone, ProgressUpdate, Role, UpdateFile, UpdateStatus

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = reporting_period(TODAY, Reporting(Frequency.MONTHLY, 5, 10))
PDF = b"%PDF-1.4\n% evidence\n"


@pytest.fixture
def setup(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", start=TODAY - dt.timedelta(days=200))
    db.add(Milestone(pilot_id=pilot.id, title="建成数据采集系统", due_date=TODAY, indicator="覆盖阶段数",
                     target_value="6", task_id=pilot.tasks[0].id))  # fmt: skip
    db.commit()
    factory.user(Role.CITY_STAFF, "长治", username="czf")
    factory.user(Role.CITY_STAFF, "太原", username="tyf")
    factory.user(Role.LEADER, username="ldf")
    return pilot


def open_form(client: Any, app: Any, pilot_id: object) -> str:
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/update-form",
                           "_pages_location.search": f"?pilot={pilot_id}&period={PERIOD.key}"})  # fmt: skip
    return json.dumps(json.loads(answer.get_data(as_text=True))["response"], ensure_ascii=False)


def save(client: Any, app: Any, pilot: Any, percent: object, version: object, *, submit: bool = False,
         work_done: str = "完成数据采集") -> Any:  # fmt: skip
    values = {
        "uform-submit" if submit else "uform-save": 1, "uform-key": {"pilot": pilot.id, "period": PERIOD.key},
        "uform-version": version, "uform-tasks": [{"task_id": pilot.tasks[0].id, "percent": percent}],
        "uform-milestones": [{"milestone_id": pilot.milestones[0].id, "reached": True, "achieved_on": "",
                              "value": 6, "note": ""}],
        "uform-work-done": work_done, "uform-problems": "", "uform-next-steps": "",
    }  # fmt: skip
    return call_callback(client, app, "uform-message", values)


def answer_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


def upload(client: Any, app: Any, pilot: Any, name: str, content: bytes, target: str) -> Any:
    data = "data:application/octet-stream;base64," + base64.b64encode(content).decode()
    return call_callback(client, app, "uform-files", {"uform-upload": data, "uform-upload.filename": name,
                                                      "uform-target": target, "uform-remove-which": None,
                                                      "uform-key": {"pilot": pilot.id, "period": PERIOD.key}})  # fmt: skip


def test_the_form_starts_from_the_last_figures_with_each_tasks_expected_progress(
    client, app, db, factory, setup
) -> None:  # type: ignore[no-untyped-def]
    from tracker.progress.expected import expected_task_progress

    pilot = setup
    before = PERIOD.start - dt.timedelta(days=1)
    factory.accepted_update(pilot, before.replace(day=1), before, "35")
    login(client, "czf")
    answer = json.loads(open_form(client, app, pilot.id))
    grid = find(answer, "uform-tasks")
    (row,) = grid["props"]["rowData"]
    task = pilot.tasks[0]
    assert row["last"] == 35.0 and row["percent"] == 35.0  # like the Excel template: moved where it changed
    assert row["expected"] == float(
        expected_task_progress(task.planned_start, task.planned_end, PERIOD.end).quantize(Decimal("0.1"))
    )
    shown = json.dumps(answer, ensure_ascii=False)
    assert shown.index("佐证材料") < shown.index("保存并提交")  # evidence is attached before submitting
    assert all(
        g in enclosed_by(answer, "no-grid-tools") for g in ("uform-tasks", "uform-milestones")
    )  # no export on entry grids


def find(tree: Any, component_id: str) -> Any:
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        return next((hit for v in tree.values() if (hit := find(v, component_id))), None)
    if isinstance(tree, list):
        return next((hit for item in tree if (hit := find(item, component_id))), None)
    return None


def enclosed_by(tree: Any, class_name: str, inside: bool = False) -> set[str]:
    """The ids of the components inside an element of class ``class_name``."""
    found: set[str] = set()
    if isinstance(tree, dict):
        props = tree.get("props", {}) if isinstance(tree.get("props"), dict) else {}
        inside = inside or class_name in str(props.get("className", "")).split()
        if inside and isinstance(props.get("id"), str):
            found.add(props["id"])
        for value in tree.values():
            found |= enclosed_by(value, class_name, inside)
    elif isinstance(tree, list):
        for item in tree:
            found |= enclosed_by(item, class_name, inside)
    return found


def test_a_city_enters_saves_attaches_evidence_and_submits(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot = setup
    login(client, "czf")
    form = open_form(client, app, pilot.id)
    assert pilot.name in form and "数据采集" in form and "建成数据采集系统" in form
    early = answer_of(upload(client, app, pilot, "report.pdf", PDF, f"milestone:{pilot.milestones[0].id}"))
    assert "请先保存草稿" in json.dumps(early, ensure_ascii=False)
    first = answer_of(save(client, app, pilot, 40, None))
    assert "草稿已保存" in json.dumps(first, ensure_ascii=False)
    version = first["uform-version"]["data"]
    attached = answer_of(upload(client, app, pilot, "report.pdf", PDF, f"milestone:{pilot.milestones[0].id}"))
    assert "已上传" in json.dumps(attached, ensure_ascii=False)
    assert attached["uform-version"]["data"] > version  # the evidence moved the version
    refused = answer_of(upload(client, app, pilot, "evil.exe", b"MZ...", "update"))
    assert "不支持的文件类型" in json.dumps(refused, ensure_ascii=False)
    stored = db.scalars(select(UpdateFile)).one()
    assert stored.milestone_id == pilot.milestones[0].id and stored.filename == "report.pdf"
    # A second editor still holding the first version overwrites nothing.
    stale = answer_of(save(client, app, pilot, 90, version))
    assert "覆盖" in json.dumps(stale, ensure_ascii=False)
    update = db.scalars(select(ProgressUpdate)).one()
    db.refresh(update)
    assert update.task_progress[0].percent == 40
    done = answer_of(save(client, app, pilot, 45, attached["uform-version"]["data"], submit=True))
    assert "已提交省厅审核" in json.dumps(done, ensure_ascii=False)
    db.refresh(update)
    assert update.status is UpdateStatus.SUBMITTED and update.task_progress[0].percent == 45
    assert update.milestone_reports[0].reached and update.milestone_reports[0].indicator_value == 6
    downloaded = client.get(f"/evidence/{stored.id}")
    assert downloaded.status_code == 200 and downloaded.data == PDF
    locked = answer_of(upload(client, app, pilot, "late.pdf", PDF, "update"))
    assert "不能再添加" in json.dumps(locked, ensure_ascii=False)


def test_submitting_without_the_work_done_lists_the_problem(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    login(client, "czf")
    text = json.dumps(
        answer_of(save(client, app, setup, 40, None, submit=True, work_done="")), ensure_ascii=False
    )
    assert "请填写本期工作进展" in text
    assert db.scalars(select(ProgressUpdate)).first() is None


def test_other_cities_leaders_and_the_anonymous_get_nothing(client, app, db, setup) -> None:  # type: ignore[no-untyped-def]
    pilot = setup
    login(client, "czf")
    answer_of(save(client, app, pilot, 40, None))
    answer_of(upload(client, app, pilot, "report.pdf", PDF, "update"))
    stored = db.scalars(select(UpdateFile)).one()
    client.post("/logout", data={})
    for username in ("tyf", "ldf"):
        other = app.server.test_client()
        login(other, username)
        page = open_form(other, app, pilot.id)
        assert pilot.name not in page
        assert save(other, app, pilot, 99, None).status_code == 204
        assert upload(other, app, pilot, "x.pdf", PDF, "update").status_code == 204
        assert other.get(f"/evidence/{stored.id}").status_code == (404 if username == "tyf" else 200)
    anonymous = app.server.test_client()
    assert anonymous.get(f"/evidence/{stored.id}").status_code in (302, 401)
    update = db.scalars(select(ProgressUpdate)).one()
    db.refresh(update)
    assert update.task_progress[0].percent == 40 and len(update.files) == 1
