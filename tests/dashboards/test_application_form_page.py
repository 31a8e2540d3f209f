"""The 填写申报 form over HTTP: a city user fills an application field by field, with its plan, and
saves or submits it; limits are counted in characters and a refused save writes nothing; the
anonymous, leaders and other cities' users get nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web import call_callback, login
from tracker.models import (
    Application,
    ApplicationStatus,
    AuditEvent,
    Batch,
    DeadlineException,
    Role,
    WorkflowStep,
)

AS = ApplicationStatus
FORM = "appform"


@pytest.fixture
def people(factory):  # type: ignore[no-untyped-def]
    return {
        "city": factory.user(Role.CITY_STAFF, "长治", username="czs"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tys"),
        "province": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, username="lds"),
    }


def reopen(db, city_id: int, batch_number: int = 3) -> None:  # type: ignore[no-untyped-def]
    batch = db.scalars(select(Batch).where(Batch.number == batch_number)).one()
    db.add(DeadlineException(batch_id=batch.id, city_id=city_id, until=dt.date(2099, 1, 1), reason="测试"))
    db.commit()


def filled(**overrides: Any) -> dict[str, Any]:
    """What the browser sends for a complete product application (ids as the page names them)."""
    values: dict[str, Any] = {
        f"{FORM}-id": None, f"{FORM}-batch": 3, f"{FORM}-city": None,
        f"{FORM}-category": "product", f"{FORM}-product": "白酒", f"{FORM}-direct": [],
        f"{FORM}-flags": ["is_chain_leader", "has_green_title"],
        f"{FORM}-milestones": [
            {"key": "1", "title": "建成数据采集系统", "month": 3, "indicator": "覆盖阶段数", "target_value": "6"},
            {"key": "2", "title": "", "month": None},  # a blank row left in the grid is skipped
            {"key": "3", "title": "发布碳足迹报告", "month": "12", "indicator": "报告", "target_value": "1"},
        ],
        f"{FORM}-participants": [{"key": "1", "unit_name": "示例大学", "responsibility": "核算方法与数据质量"}],
        f"{FORM}-f-organisation_name": "  长治示例酒业有限公司　", f"{FORM}-f-contact_name": "王联系",
        f"{FORM}-f-contact_phone": "0355-2110461", f"{FORM}-f-contact_email": "wang@example.cn",
        f"{FORM}-f-overall_goal": "建立白酒产品碳足迹管理体系", f"{FORM}-f-unit_intro": "酒" * 1000,
        f"{FORM}-f-summary_plan": "一年内完成核算与报告",
    }  # fmt: skip
    return values | overrides


def press(client: Any, app: Any, values: dict[str, Any], button: str = "save") -> Any:
    """Post the form's save callback as a click on 保存草稿 (save) or 保存并提交 (submit)."""
    return call_callback(client, app, f"{FORM}-message", {f"{FORM}-{button}": 1, **values})


def message(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = json.loads(response.get_data(as_text=True))["response"]
    return json.dumps(body[f"{FORM}-message"]["children"], ensure_ascii=False)


def count(db, model: Any) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model))  # type: ignore[no-any-return]


def test_anonymous_gets_401(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id in (f"{FORM}-message", f"{FORM}-milestones", f"{FORM}-participants"):
        assert call_callback(client, app, output_id, {}).status_code == 401


def test_city_user_fills_and_saves_a_draft_with_its_plan(client, app, db, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "czs")
    # The city in the request is ignored for a city user: the application is the user's city's.
    text = message(press(client, app, filled(**{f"{FORM}-city": 999})))
    assert "已保存" in text
    application = db.scalars(select(Application)).one()
    assert application.status is AS.DRAFT and application.city_id == people["city"].city_id
    assert application.organisation.name == "长治示例酒业有限公司"  # spaces of both kinds trimmed
    assert application.product is not None and application.product.name_zh == "白酒"
    assert application.batch.number == 3 and len(application.unit_intro or "") == 1000
    assert application.is_chain_leader and application.has_green_title and not application.is_label_pilot_unit
    assert [(m.title, m.month) for m in application.plan_milestones] == [
        ("建成数据采集系统", 3),
        ("发布碳足迹报告", 12),
    ]
    assert [(p.unit_name, p.responsibility) for p in application.plan_participants] == [
        ("示例大学", "核算方法与数据质量")
    ]
    created = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "applications",
                                                  AuditEvent.entity_id == str(application.id))).one()  # fmt: skip
    assert created.action == "create" and created.actor_id == people["city"].id
    # Saving again with the id the page keeps changes the same application, not a new one.
    again = filled(**{f"{FORM}-id": application.id, f"{FORM}-f-summary_plan": "改为半年完成核算"})
    assert "已保存" in message(press(client, app, again))
    db.refresh(application)
    assert count(db, Application) == 1 and application.summary_plan == "改为半年完成核算"


def test_a_refused_save_lists_every_problem_and_writes_nothing(client, app, db, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "czs")
    bad = filled(**{
        f"{FORM}-f-unit_intro": "酒" * 1001,  # one Chinese character over the limit
        f"{FORM}-f-contact_name": "  ",
        f"{FORM}-product": None,
        f"{FORM}-milestones": [{"key": "1", "title": "发布报告", "month": "一年后"}],
    })  # fmt: skip
    text = message(press(client, app, bad))
    assert "发现4个问题" in text and "未写入任何数据" in text
    for expected in ("试点单位情况简介：超过1000字（现有1001字）", "工作联系人：必填",
                     "产品碳足迹管理试点须填写试点产品", "第1个阶段性目标的月份应为1–36的整数"):  # fmt: skip
        assert expected in text, expected
    assert count(db, Application) == 0


def test_save_and_submit_respects_the_deadline(client, app, db, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "czs")
    text = message(press(client, app, filled(), "submit"))
    # Every batch's deadline has passed: the draft is kept, the submission is refused and says why.
    assert "已保存为草稿，但未能提交" in text and "截止" in text
    application = db.scalars(select(Application)).one()
    assert application.status is AS.DRAFT
    reopen(db, people["city"].city_id)
    text = message(press(client, app, filled(**{f"{FORM}-id": application.id}), "submit"))
    assert "已保存并提交" in text
    db.refresh(application)
    assert application.status is AS.SUBMITTED
    step = db.scalars(select(WorkflowStep).where(WorkflowStep.subject_id == application.id)).one()
    assert step.step == "submit" and step.actor_id == people["city"].id


def test_province_files_a_service_application_directly(client, app, db, people, factory) -> None:  # type: ignore[no-untyped-def]
    reopen(db, factory.city("太原").id)
    login(client, "sheng")
    values = filled(**{f"{FORM}-city": factory.city("太原").id,
                       f"{FORM}-category": "service", f"{FORM}-product": "白酒", f"{FORM}-direct": ["direct"],
                       f"{FORM}-f-organisation_name": "太原碳足迹服务中心"})  # fmt: skip
    assert "已保存并提交" in message(press(client, app, values, "submit"))
    application = db.scalars(select(Application)).one()
    assert application.direct_to_province and application.product is None
    assert application.status is AS.FORWARDED  # filed with the province: no city review


def test_city_users_cannot_file_directly_with_the_province(client, app, db, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "czs")
    values = filled(**{f"{FORM}-category": "service", f"{FORM}-direct": ["direct"]})
    assert "已保存" in message(press(client, app, values))
    assert not db.scalars(select(Application)).one().direct_to_province


def test_other_city_leader_and_locked_applications_change_nothing(client, app, db, people, factory) -> None:  # type: ignore[no-untyped-def]
    theirs = factory.application("长治", status=AS.SUBMITTED)
    before = theirs.overall_goal
    login(client, "tys")
    hijack = filled(**{f"{FORM}-id": theirs.id, f"{FORM}-f-overall_goal": "被改了"})
    assert press(client, app, hijack).status_code == 204
    page = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/application-form",
                                                         "_pages_location.search": f"?id={theirs.id}"})  # fmt: skip
    assert "没有找到该申报" in json.dumps(page.get_json(), ensure_ascii=False)
    client.get("/logout")
    client = app.server.test_client()
    login(client, "lds")
    assert press(client, app, hijack).status_code == 204
    assert call_callback(client, app, f"{FORM}-milestones", {f"{FORM}-ms-add": 1}).status_code == 204
    page = call_callback(client, app, "_pages_content", {"_pages_location": "/application-form"})
    assert "您没有访问此页面的权限" in json.dumps(page.get_json(), ensure_ascii=False)
    client = app.server.test_client()
    login(client, "czs")
    passed = factory.application("长治", status=AS.CITY_PASSED)
    text = message(press(client, app, filled(**{f"{FORM}-id": passed.id})))
    assert "已通过市级初审" in text
    db.refresh(theirs)
    db.refresh(passed)
    assert theirs.overall_goal == before and passed.overall_goal == before


def test_the_page_opens_an_application_with_its_values(client, app, people, factory) -> None:  # type: ignore[no-untyped-def]
    application = factory.application("长治", status=AS.RETURNED, with_plan=True)
    login(client, "czs")
    page = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/application-form",
                                                         "_pages_location.search": f"?id={application.id}"})  # fmt: skip
    text = json.dumps(page.get_json(), ensure_ascii=False)
    assert "修改申报" in text and application.organisation.name in text
    assert "建成数据采集系统" in text and "示例大学" in text and "建立产品碳足迹管理体系" in text


def test_grid_rows_are_added_and_removed(client, app, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "czs")
    rows = [{"key": "1", "title": "a"}, {"key": "2", "title": "b"}]
    response = call_callback(
        client, app, f"{FORM}-milestones", {f"{FORM}-ms-add": 1, f"{FORM}-milestones.rowData": rows}
    )
    added = json.loads(response.get_data(as_text=True))["response"][f"{FORM}-milestones"]["rowData"]
    assert added == [*rows, {"key": "3"}]
    response = call_callback(client, app, f"{FORM}-milestones", {f"{FORM}-ms-delete": 1, f"{FORM}-milestones.rowData": rows,
                                                                 f"{FORM}-milestones.selectedRows": [rows[0]]})  # fmt: skip
    kept = json.loads(response.get_data(as_text=True))["response"][f"{FORM}-milestones"]["rowData"]
    assert kept == [rows[1]]
