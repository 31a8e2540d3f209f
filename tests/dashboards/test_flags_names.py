"""The flag page names the other claims of a cross-claim flag for its reader (issue 21 point 4): a
city bureau sees its own city's companies, each a link to the same rule's flag on that claim, and
other cities' only as a count; the province sees every name; the library words beside a flag are in
the reader's language."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dashboards.test_flags_page import DETAIL, GRID, NOW, body, claim_rows, flag_of, text
from tests.web import call_callback, login
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.core.creditcode import check_character
from tracker.models import Role

FIGURES = {"footprint_kgco2e": "860.8", "stage_raw_materials": "330.1", "stage_manufacturing": "512.5",
           "stage_transport": "18.2"}  # fmt: skip


def company(key: str, n: int, city: str, unit: str = "t") -> dict[str, str]:
    first17 = f"91140400{n:08d}M"
    scale = 1000 if unit == "kg" else 1
    figures = {k: f"{float(v) / scale:.4f}" for k, v in FIGURES.items()}
    return {"claim_id": key, "city": city, "company_name": f"示例{city}玻璃有限公司{n}", "declared_unit": unit,
            "credit_code": first17 + check_character(first17), **figures}  # fmt: skip


@pytest.fixture
def copies(factory, db):  # type: ignore[no-untyped-def]
    province = factory.user(Role.PROVINCE_STAFF, username="shnm")
    factory.user(Role.CITY_STAFF, "长治", username="cznm")
    rows = [company("NM-1", 1, "长治"), company("NM-2", 2, "长治", "kg"), company("NM-3", 3, "太原")]
    import_claims(db, province, claim_rows(rows), "claims.csv")
    scan_claims(db, now=NOW)
    db.commit()
    return flag_of(db, "COPIED_FIGURES", "NM-1")


def detail_of(client: Any, app: Any, flag_id: int) -> str:
    return text(body(call_callback(client, app, DETAIL, {GRID: [{"id": flag_id}]})), DETAIL)


def test_a_city_bureau_reads_its_own_citys_copier_by_name_and_others_as_a_count(
    client, app, db, copies
) -> None:  # type: ignore[no-untyped-def]
    login(client, "cznm")
    shown = detail_of(client, app, copies.id)
    linked = flag_of(db, "COPIED_FIGURES", "NM-2")
    assert "示例长治玻璃有限公司2" in shown and f"/flags?id={linked.id}" in shown
    assert "示例太原玻璃有限公司3" not in shown and "其他市企业1家" in shown
    assert "涉及的其他声明" in shown and "已核实" in shown and '"confirmed"' not in shown
    grid = body(call_callback(client, app, GRID, {"flg-rule": ["COPIED_FIGURES"]}))[GRID]["rowData"]
    assert grid and "示例太原玻璃有限公司3" not in json.dumps(grid, ensure_ascii=False)
    client.get("/lang/en")
    shown = detail_of(client, app, copies.id)
    assert "1 companies in other cities" in shown and "示例太原玻璃有限公司3" not in shown
    assert "Other claims involved" in shown and "Changzhi" in shown and "已核实" not in shown


def test_the_province_reads_every_name(client, app, db, copies) -> None:  # type: ignore[no-untyped-def]
    login(client, "shnm")
    shown = detail_of(client, app, copies.id)
    taiyuan = flag_of(db, "COPIED_FIGURES", "NM-3")
    assert "示例长治玻璃有限公司2" in shown and "示例太原玻璃有限公司3" in shown
    assert f"/flags?id={taiyuan.id}" in shown and "其他市企业" not in shown
