"""The 申报与遴选 page over HTTP: every callback refuses the anonymous, leaders where it writes, and
users of another city; the allowed paths work end to end."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.lifecycle.test_forms_import import sample_bytes
from tests.web import call_callback, login
from tracker.models import Application, ApplicationStatus, Batch, DeadlineException, Role

AS = ApplicationStatus


def upload(
    content: bytes, mime: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def output(response: Any, output_id: str, prop: str = "children") -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))["response"][output_id][prop]


def text_of(component: Any) -> str:
    return json.dumps(component, ensure_ascii=False)


@pytest.fixture
def people(factory):  # type: ignore[no-untyped-def]
    return {
        "city": factory.user(Role.CITY_STAFF, "长治", username="czs"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tys"),
        "province": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, username="lds"),
    }


def open_batch_three(db, people) -> None:  # type: ignore[no-untyped-def]
    batch = db.scalars(select(Batch).where(Batch.number == 3)).one()
    db.add(DeadlineException(batch_id=batch.id, city_id=people["city"].city_id, until=__import__("datetime").date(2099, 1, 1),
                             reason="测试"))  # fmt: skip
    db.commit()


def test_anonymous_gets_401_from_every_callback(client, app) -> None:  # type: ignore[no-untyped-def]
    for output_id in ("apps-grid", "apps-detail", "apps-import-result", "apps-quota-grid", "apps-file-download",
                      "apps-form-download", "apps-export-download"):  # fmt: skip
        assert call_callback(client, app, output_id, {}).status_code == 401


def test_city_import_review_forward_then_province_selects(client, app, db, people) -> None:  # type: ignore[no-untyped-def]
    open_batch_three(db, people)
    login(client, "czs")
    result = call_callback(client, app, "apps-import-result", {
        "apps-import-upload": upload(sample_bytes()), "apps-import-upload.filename": "annex1.xlsx",
        "apps-import-batch": 3, "apps-import-city": 999, "apps-import-dry": []})  # fmt: skip
    assert "已新增5条" in text_of(output(result, "apps-import-result"))
    rows = output(call_callback(client, app, "apps-grid", {"apps-batch": 3}), "apps-grid", "rowData")
    assert len(rows) == 5 and {r["city"] for r in rows} == {"长治"}
    first = min(r["id"] for r in rows)
    selected = [{"id": first}]
    detail = call_callback(client, app, "apps-detail", {"apps-grid": selected})
    body = json.loads(detail.get_data(as_text=True))["response"]
    assert "示例长治白酒有限公司1" in text_of(body["apps-detail"]["children"])
    assert body["apps-step-pass"]["className"] == "me-1 mb-1"  # shown: the city may pass it
    assert "d-none" in body["apps-step-select"]["className"]  # hidden: selecting is the province's
    for step in ("pass", "forward"):
        response = call_callback(client, app, "apps-message", {f"apps-step-{step}": 1, "apps-grid": selected})
        assert "已办理" in text_of(output(response, "apps-message")), step
    # the city may not select its own applications, even by posting the button
    response = call_callback(client, app, "apps-message", {"apps-step-select": 1, "apps-grid": selected})
    assert "已办理" not in text_of(output(response, "apps-message"))
    client = app.server.test_client()
    login(client, "sheng")
    for step in ("start_review",):
        call_callback(client, app, "apps-message", {f"apps-step-{step}": 1, "apps-grid": selected})
    scored = call_callback(client, app, "apps-message", {"apps-score-save": 1, "apps-grid": selected,
                                                         "apps-expert": "张专家", "apps-score": 88, "apps-comment": "好"})  # fmt: skip
    assert "评分已记录" in text_of(output(scored, "apps-message"))
    chosen = call_callback(client, app, "apps-message", {"apps-step-select": 1, "apps-grid": selected})
    assert "已办理：确定入选" in text_of(output(chosen, "apps-message"))
    quotas = output(
        call_callback(client, app, "apps-quota-grid", {"apps-refresh": 1}), "apps-quota-grid", "rowData"
    )
    assert next(q for q in quotas if q["product"] == "白酒")["taken"] == 1
    published = call_callback(client, app, "apps-message", {"apps-publish-go": 1, "apps-publish-batch": 3})
    assert "共1个试点" in text_of(output(published, "apps-message"))
    chosen_application = db.get(Application, first)
    db.refresh(chosen_application)
    assert chosen_application.status is AS.SELECTED


def test_another_citys_user_gets_nothing(client, app, factory, people, db) -> None:  # type: ignore[no-untyped-def]
    application = factory.application("长治", status=AS.SUBMITTED)
    login(client, "tys")
    selected = [{"id": application.id}]
    assert call_callback(client, app, "apps-detail", {"apps-grid": selected}).status_code == 204
    response = call_callback(client, app, "apps-message", {"apps-step-pass": 1, "apps-grid": selected})
    assert response.status_code == 204 or "已办理" not in response.get_data(as_text=True)
    assert (
        call_callback(
            client, app, "apps-form-download", {"apps-form-get": 1, "apps-grid": selected}
        ).status_code
        == 204
    )
    rows = output(call_callback(client, app, "apps-grid", {}), "apps-grid", "rowData")
    assert rows == []
    db.refresh(application)
    assert application.status is AS.SUBMITTED


def menu_links(client: Any) -> set[str]:
    """Every link of the page frame (the menu bar) for the logged-in user."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("href"), str):
                found.add(node["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(client.get("/_dash-layout").get_data(as_text=True)))
    return found


def test_leaders_read_but_never_write(client, app, factory, people, db) -> None:  # type: ignore[no-untyped-def]
    application = factory.application("长治", status=AS.UNDER_REVIEW)
    login(client, "lds")
    menu = menu_links(client)
    assert "/summary" in menu and not {"/applications", "/updates"} & menu  # no work for a leader there
    client.post("/logout")
    login(client, "czs")
    assert {"/applications", "/updates"} <= menu_links(client)
    client.post("/logout")
    login(client, "lds")
    selected = [{"id": application.id}]
    assert call_callback(client, app, "apps-detail", {"apps-grid": selected}).status_code == 200
    for values in ({"apps-step-select": 1}, {"apps-score-save": 1, "apps-expert": "x", "apps-score": 1},
                   {"apps-publish-go": 1, "apps-publish-batch": 1}, {"apps-grant-go": 1}):  # fmt: skip
        response = call_callback(client, app, "apps-message", {**values, "apps-grid": selected})
        assert response.status_code == 204, values
    assert (
        call_callback(client, app, "apps-import-result", {"apps-import-upload": upload(b"x")}).status_code
        == 204
    )
    db.refresh(application)
    assert application.status is AS.UNDER_REVIEW and not application.scores


def test_supporting_files_checked_stored_and_downloaded(client, app, factory, people, db) -> None:  # type: ignore[no-untyped-def]
    application = factory.application("长治", status=AS.DRAFT)
    login(client, "czs")
    selected = [{"id": application.id}]
    bad = call_callback(client, app, "apps-message", {"apps-file-upload": upload(b"MZ\x90\x00", "application/pdf"),
                                                      "apps-file-upload.filename": "营业执照.pdf", "apps-grid": selected,
                                                      "apps-file-kind": "business"})  # fmt: skip
    assert "文件内容与扩展名.pdf不符" in text_of(output(bad, "apps-message"))
    pdf = b"%PDF-1.7\n" + b"0" * 2048
    good = call_callback(client, app, "apps-message", {"apps-file-upload": upload(pdf, "application/pdf"),
                                                       "apps-file-upload.filename": "营业执照.pdf", "apps-grid": selected,
                                                       "apps-file-kind": "business"})  # fmt: skip
    assert "材料已上传" in text_of(output(good, "apps-message"))
    db.refresh(application)
    [stored] = application.files
    assert stored.size_bytes == len(pdf) and len(stored.sha256) == 64
    download = call_callback(client, app, "apps-file-download", {"apps-file-get": 1, "apps-file-pick": stored.id,
                                                                 "apps-grid": selected})  # fmt: skip
    data = output(download, "apps-file-download", "data")
    assert base64.b64decode(data["content"]) == pdf and data["filename"] == "营业执照.pdf"
    client = app.server.test_client()
    login(client, "tys")
    assert call_callback(client, app, "apps-file-download", {"apps-file-get": 1, "apps-file-pick": stored.id,
                                                             "apps-grid": selected}).status_code == 204  # fmt: skip
