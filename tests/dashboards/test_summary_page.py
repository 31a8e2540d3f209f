"""领导摘要 (/summary): one read-only page per scope, downloadable as PDF and Excel (audited); a
city-bound reader gets only their city's figures, the anonymous get nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from tests.dashboards.test_workplan_page import body
from tests.web import call_callback, login
from tracker.models import AuditEvent, Role


@pytest.fixture
def world(factory):  # type: ignore[no-untyped-def]
    factory.pilot("长治", name="长治甲试点")
    factory.pilot("长治", "玻璃", name="长治乙试点")
    factory.pilot("太原", "钢铁", name="太原丙试点")
    return {
        "leader": factory.user(Role.LEADER, None, username="lingdao"),
        "city_leader": factory.user(Role.LEADER, "长治", username="czld"),
        "city": factory.user(Role.CITY_STAFF, "太原", username="tyu"),
    }


def shown(client: Any, app: Any) -> str:
    page = body(call_callback(client, app, "_pages_content", {"_pages_location": "/summary"}))
    return json.dumps(page, ensure_ascii=False)


@pytest.mark.parametrize(("username", "scope", "pilots", "absent"), [
    ("lingdao", "山西省产品碳足迹管理试点进展摘要", 3, None),
    ("czld", "长治市产品碳足迹管理试点进展摘要", 2, "太原丙试点"),
    ("tyu", "太原市产品碳足迹管理试点进展摘要", 1, "长治甲试点"),
])  # fmt: skip
def test_each_reader_gets_their_scope(client, app, world, username, scope, pilots, absent) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    text = shown(client, app)
    assert scope in text and f"纳入调度试点{pilots}个" in text
    assert absent is None or absent not in text
    assert "下载PDF" in text and "下载Excel" in text


def test_the_pdf_and_the_workbook_download_and_are_audited(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "czld")
    pdf = client.get("/summary/download.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    workbook = client.get("/summary/download.xlsx")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.data))
    assert "汇总" in book.sheetnames
    progress = book["试点进度"]
    names = {cell.value for row in progress.iter_rows() for cell in row if isinstance(cell.value, str)}
    assert "长治甲试点" in names and "太原丙试点" not in names
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "summary")).all()
    assert [(e.action, e.actor_name) for e in events] == [("export", "czld"), ("export", "czld")]


def test_the_anonymous_and_unknown_formats_get_nothing(client, app, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/summary/download.pdf", "/summary/download.xlsx"):
        response = client.get(path)
        assert response.status_code in (302, 401, 404) and not response.data.startswith(b"%PDF")
    login(client, "lingdao")
    assert client.get("/summary/download.exe").status_code == 404
