"""Spreadsheet bombs: workbooks small on disk that unpack to millions of cells, or to more bytes
than any form needs, or that declare a huge sheet, are refused before openpyxl parses them, by
every import that reads a workbook, with a message naming the limit; nothing is written.
(Their time and memory: ``python -m bench.bombs``, docs/PERFORMANCE.md.)"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from tracker.claims.library_import import LibraryKind, import_library
from tracker.claims.registry import import_claims
from tracker.core import spreadsheets
from tracker.core.spreadsheets import FORMS, SheetLimits, check_workbook
from tracker.core.validation import ValidationFailed
from tracker.lifecycle.forms import read_application_form, read_summary_table
from tracker.models import AuditEvent, Claim, Role
from tracker.progress.sheets import read_update_sheet

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    b"</Relationships>"
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b"</Relationships>"
)
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(sheet: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .xlsx around one worksheet part, deflated as hard as zip can."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, data in {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS, "xl/workbook.xml": WORKBOOK,
                           "xl/_rels/workbook.xml.rels": WORKBOOK_RELS, "xl/worksheets/sheet1.xml": sheet,
                           **(extra or {})}.items():  # fmt: skip
            book.writestr(name, data)
    return out.getvalue()


def sheet_of(rows: int, columns: int, *, dimension: str | None = None, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    row = b"<" + p.encode() + b"row>" + (b"<" + p.encode() + b"c><" + p.encode() + b"v>1</" + p.encode()
                                          + b"v></" + p.encode() + b"c>") * columns + b"</" + p.encode() + b"row>"  # fmt: skip
    namespace = MAIN.replace(b"xmlns=", f"xmlns:{prefix}=".encode()) if prefix else MAIN
    head = f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet '.encode() + namespace + b">"
    if dimension:
        head += f'<{p}dimension ref="{dimension}"/>'.encode()
    return head + f"<{p}sheetData>".encode() + row * rows + f"</{p}sheetData></{p}worksheet>".encode()


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """Three bombs: 3 million cells (about 200 KB on disk); 70 MiB of shared strings; a sheet
    that declares a million rows and holds one."""
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst '
        + MAIN
        + b">"
        + b"<si><t>x</t></si>" * 4_200_000
        + b"</sst>"
    )
    return {
        "cells": workbook(sheet_of(150_000, 20)),
        "bytes": workbook(sheet_of(1, 1), {"xl/sharedStrings.xml": strings}),
        "declared": workbook(sheet_of(1, 1, dimension="A1:T1000000")),
    }


def test_the_bombs_are_small_on_disk_and_large_inside(bombs: dict[str, bytes]) -> None:
    assert len(bombs["cells"]) < 1_000_000
    with zipfile.ZipFile(io.BytesIO(bombs["bytes"])) as book:
        assert sum(i.file_size for i in book.infolist()) > 64 * 2**20


@pytest.mark.parametrize("kind", ["cells", "bytes", "declared"])
def test_each_bomb_is_refused_before_parsing_naming_the_limit(bombs: dict[str, bytes], kind: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def never(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("openpyxl was asked to parse a bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(ValidationFailed) as refused:
        spreadsheets.open_workbook(bombs[kind])
    (problem,) = refused.value.problems
    assert problem.field == "file"
    if kind == "bytes":
        assert "文件解压后超过64MB" in problem.message_zh and "64 MiB" in problem.message_en
    else:
        assert "最多50,000行、200,000个单元格" in problem.message_zh and "200,000 cells" in problem.message_en


def imports(db: Any, factory: Any) -> dict[str, Callable[[bytes], object]]:
    staff = factory.user(Role.PROVINCE_STAFF, username="bomb-staff")
    admin = factory.user(Role.PROVINCE_ADMIN, username="bomb-admin")
    city = factory.user(Role.CITY_STAFF, "长治", username="bomb-city")
    return {
        "applications summary table": read_summary_table,
        "application form": read_application_form,
        "update template": lambda content: read_update_sheet(db, city, content),
        "claims": lambda content: import_claims(db, staff, content, "claims.xlsx"),
        "library": lambda content: import_library(
            db, admin, LibraryKind.BENCHMARKS, content, "benchmarks.xlsx", reason="测试"
        ),
    }


def test_every_workbook_import_refuses_the_bombs_and_writes_nothing(db, factory, bombs) -> None:  # type: ignore[no-untyped-def]
    readers = imports(db, factory)
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    for name, read in readers.items():
        for kind, content in bombs.items():
            with pytest.raises(ValidationFailed) as refused:
                read(content)
            messages = " ".join(p.message_zh for p in refused.value.problems)
            assert "超过" in messages or "最多" in messages, (name, kind, messages)
    assert db.scalar(select(func.count()).select_from(Claim)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_cells_are_counted_exactly_across_chunk_boundaries_and_namespace_prefixes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spreadsheets, "CHUNK", 7)  # elements split between reads everywhere
    for prefix in ("", "x"):
        exact = workbook(sheet_of(100, 20, prefix=prefix))
        check_workbook(
            exact, SheetLimits(max_cells=2000, max_rows=100)
        )  # 2,000 cells and 100 rows: at the limit
        with pytest.raises(ValidationFailed):
            check_workbook(exact, SheetLimits(max_cells=1999, max_rows=100))
        with pytest.raises(ValidationFailed):
            check_workbook(exact, SheetLimits(max_cells=2000, max_rows=99))


def test_ordinary_workbooks_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    book = openpyxl.Workbook()
    for row in range(1, 2001):
        book.active.append([row, "长治", "试点", 12.5])
    out = io.BytesIO()
    book.save(out)
    parsed = spreadsheets.open_workbook(out.getvalue(), FORMS)
    assert parsed.active.max_row == 2000
    with pytest.raises(ValidationFailed) as refused:
        check_workbook(b"PK\x03\x04 not really a zip")
    assert "不是有效的 Excel" in refused.value.problems[0].message_zh
