"""导出Excel and 选择列 on every grid: the export route writes what the grid shows, safely, and audits it."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlalchemy import select

from tests.web import login
from tracker.models import AuditEvent, Role

HEADERS = {"X-Requested-With": "tracker-grid"}
BODY = {"grid": "registry-grid", "title": "试点名录", "columns": ["试点", "开始日期", "进度"],
        "dates": [False, True, False],
        "rows": [["=HYPERLINK(\"http://x\")", "2025-09-01", 37.5], ["示例试点", None, None]]}  # fmt: skip


def test_anonymous_gets_no_file(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/export/grid.xlsx", json=BODY, headers=HEADERS)
    assert response.status_code == 401 and response.mimetype == "application/json"


def test_a_request_without_the_header_or_with_bad_rows_is_refused(client, factory) -> None:  # type: ignore[no-untyped-def]
    factory.user(Role.CITY_STAFF, "长治", username="czx")
    login(client, "czx")
    assert client.post("/export/grid.xlsx", json=BODY).status_code == 400  # a cross-site form cannot add it
    for broken in ({**BODY, "rows": [["只有一格"]]}, {**BODY, "columns": []}, {**BODY, "rows": [[{"a": 1}, "", 1]]},
                   {**BODY, "dates": [True]}, [1, 2], {**BODY, "title": 5}):  # fmt: skip
        response = client.post("/export/grid.xlsx", json=broken, headers=HEADERS)
        assert response.status_code == 400, broken
        assert response.get_json()["message"] == "导出内容格式不正确"


def test_the_workbook_holds_the_rows_as_sent_text_as_text_dates_as_dates(client, db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治", username="czy")
    login(client, "czy")
    response = client.post("/export/grid.xlsx", json=BODY, headers=HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Filename"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.cell(1, 1).value == "试点名录"
    assert [sheet.cell(3, c).value for c in (1, 2, 3)] == ["试点", "开始日期", "进度"]
    formula_like = sheet.cell(4, 1)
    assert formula_like.value == '=HYPERLINK("http://x")' and formula_like.data_type == "s"
    assert sheet.cell(4, 2).value == dt.datetime(2025, 9, 1) and sheet.cell(4, 3).value == 37.5
    assert sheet.cell(5, 1).value == "示例试点" and sheet.cell(5, 2).value is None
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.entity_type == "grid")
    ).one()
    assert event.actor_id == user.id and "2行" in (event.summary or "")


def test_a_title_excel_would_refuse_as_a_sheet_name_still_exports() -> None:
    """A pilot page's heading is the pilot's name, which may hold / or : (Excel refuses them in sheet names)."""
    import io

    import openpyxl

    from reports.excel import sheet_name, write_table

    assert sheet_name("光伏组件/逆变器试点:第[1]期*?") == "光伏组件_逆变器试点_第_1_期__"
    assert sheet_name("'") == "Sheet1" and len(sheet_name("长" * 40)) == 31
    book = openpyxl.load_workbook(io.BytesIO(write_table("光伏组件/逆变器试点", [("a", "列")], [{"a": "x"}])))
    assert book.sheetnames == ["光伏组件_逆变器试点"]
