"""Text hygiene: upload names lose control characters, path parts and bidirectional overrides; every
download names its file by RFC 6266 (an ASCII filename and the real one as filename*), so no stored
name can break the header; control characters in a claims file are refused with their row and
column; a PACT file nested beyond reason is refused with a message, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from tests.claims.test_claims_import import as_csv, sample_rows
from tests.web import login
from tracker.claims.registry import import_claims
from tracker.core.validation import ValidationFailed
from tracker.models import Claim, ProgressUpdate, Role, UpdateFile, UpdateStatus
from tracker.uploads.files import attach_evidence, clean_filename

PDF = b"%PDF-1.4\n% evidence\n"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("a\r\nSet-Cookie: pwn=1\r\nX: .pdf", "aSet-Cookie: pwn=1X:.pdf"),
        ("..\\..\\windows\\报告.pdf", "报告.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("\u202egpj.exe", "gpj.exe"),  # no right-to-left override to disguise the extension
        ("  .pdf", "pdf"),  # nothing before the dot: no extension left, refused as a type
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        ("\x00", "未命名"),
    ],
)
def test_upload_names_are_cleaned(given: str, kept: str) -> None:
    assert clean_filename(given) == kept


@pytest.fixture
def evidence(db, factory, settings):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    factory.user(Role.CITY_STAFF, "长治", username="hyg")
    city = factory.user(Role.CITY_STAFF, "长治", username="hyg2")
    update = ProgressUpdate(pilot_id=pilot.id, period_start=pilot.start_date.replace(day=1),
                            period_end=pilot.start_date.replace(day=28), status=UpdateStatus.DRAFT,
                            entered_by_id=city.id)  # fmt: skip
    db.add(update)
    db.flush()
    row = attach_evidence(db, city, update, filename="a\r\nSet-Cookie: pwn=1\r\nX: 佐证.pdf", content=PDF,
                          instance_dir=Path(settings.instance_dir))  # fmt: skip
    db.commit()
    return row


def disposition(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    ascii_name = header.split('filename="', 1)[1].split('"', 1)[0]
    real = unquote(header.split("filename*=UTF-8''", 1)[1])
    return ascii_name, real


def test_an_evidence_name_with_a_header_injection_is_stored_clean_and_downloads(client, db, evidence) -> None:  # type: ignore[no-untyped-def]
    assert evidence.filename == "aSet-Cookie: pwn=1X: 佐证.pdf"
    login(client, "hyg")
    response = client.get(f"/evidence/{evidence.id}")
    assert response.status_code == 200 and response.data == PDF
    assert "pwn" not in response.headers.get("Set-Cookie", "")
    ascii_name, real = disposition(response)
    assert real == "aSet-Cookie: pwn=1X: 佐证.pdf" and ascii_name.isascii() and ascii_name.endswith(".pdf")


def test_a_name_stored_before_the_cleaning_still_downloads(client, db, evidence) -> None:  # type: ignore[no-untyped-def]
    db.execute(UpdateFile.__table__.update().values(filename="old\r\nX-Evil: 1\r\n.pdf"))
    db.commit()
    login(client, "hyg")
    response = client.get(f"/evidence/{evidence.id}")
    assert response.status_code == 200 and "X-Evil" not in response.headers
    assert disposition(response)[1] == "oldX-Evil: 1.pdf"


@pytest.fixture
def province(factory):  # type: ignore[no-untyped-def]
    return factory.user(Role.PROVINCE_STAFF, username="hygp")


def test_a_nul_in_a_claims_file_is_refused_with_its_row_and_column(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()
    header = rows[0]
    rows[2][header.index("company_name")] = "示例\x00公司"
    rows[4][header.index("product")] = "钢\x1b[31m材"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_csv(rows), "claims.csv")
    found = [(p.row, p.field) for p in refused.value.problems if "控制字符" in p.message_zh]
    assert found == [(3, "company_name"), (5, "product")]
    assert "control characters" in refused.value.problems[0].message_en or any(
        "control characters" in p.message_en for p in refused.value.problems
    )
    assert db.scalar(select(func.count()).select_from(Claim)) == 0


def test_a_nul_escaped_in_json_is_refused_too(db, province) -> None:  # type: ignore[no-untyped-def]
    footprint = {"id": "f1", "companyName": "示例\u0000公司", "companyIds": ["urn:uscc:91140400MA0GRQNE1L"],
                 "productNameCompany": "钢材", "pcf": {"declaredUnit": "kilogram", "pCfExcludingBiogenic": "1.5"}}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, json.dumps([footprint]).encode(), "pact.json", city="长治")
    assert any(
        "控制字符" in p.message_zh and (p.item, p.field) == ("[0]", "companyName")
        for p in refused.value.problems
    )


def test_a_deeply_nested_pact_file_is_refused_with_a_message(db, province) -> None:  # type: ignore[no-untyped-def]
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, nested, "pact.json", city="长治")
    assert "嵌套" in refused.value.problems[0].message_zh


def test_control_characters_are_refused_in_application_fields_and_update_texts() -> None:
    from types import SimpleNamespace

    from tracker.lifecycle.applications import ApplicationData, PlanParticipantData, check_plan, check_texts
    from tracker.progress.updates import narrative_problems

    data = ApplicationData(texts={"organisation_name": "示例\x00公司", "leader_phone": "0351-1234567"}, category_text="",
                           participants=[PlanParticipantData("单位\x07", "职责")])  # fmt: skip
    problems = check_texts(data, ("organisation_name", "leader_phone")) + check_plan(data)
    assert [(p.field, "控制字符" in p.message_zh) for p in problems] == [
        ("organisation_name", True),
        ("participants", True),
    ]
    entry = SimpleNamespace(work_done="完成\x00", problems="", next_steps="下步\x1b")
    found = narrative_problems(entry)
    assert [p.field for p in found] == ["work_done", "next_steps"]
    assert all("control characters" in p.message_en for p in found)


def test_control_characters_in_a_library_file_are_refused_with_row_and_column(db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.claims.library_import import LibraryKind, import_library

    admin = factory.user(Role.PROVINCE_ADMIN, username="hygadmin")
    content = "name,accreditation_no,is_active,note\n示例认证\x00中心,CNAS-C001,是,\n".encode()
    with pytest.raises(ValidationFailed) as refused:
        import_library(db, admin, LibraryKind.CERTIFIERS, content, "certifiers.csv", reason="测试")
    (problem,) = [p for p in refused.value.problems if "控制字符" in p.message_zh]
    assert (problem.row, problem.field) == (2, "name") and problem.column.startswith("A")
