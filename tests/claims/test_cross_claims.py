"""Cross-claim rules name names (issue 21 point 4): COPIED_FIGURES and CERTIFICATE_SHARED list the
other claims involved, at most ten, the claim's own city first; a city bureau reads other cities'
companies only as a count, decided when shown from the reader's scope. Figures compare per base unit,
certificate numbers ignoring case, spaces and full-width forms; credit-code problems are shown in the
reader's language; a dismissal survives new companies joining and the change of evidence shape."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.claims.test_claim_rules import frame
from tests.text import CJK
from tracker.claims.registry import import_claims
from tracker.claims.rules import MAX_NAMED, RULE_BY_ID, Thresholds, claim_findings
from tracker.claims.scan import fingerprint, scan_claims
from tracker.core.creditcode import check_character
from tracker.flags.review import review_flag
from tracker.models import Claim, Flag, FlagStatus, Role
from tracker.models.labels import finding_message
from tracker.monitoring.flag_queue import FlagFilters, flag_detail, flag_queue, reader_cities

HEADER = ["claim_id", "company_name", "credit_code", "city", "product", "declared_unit", "footprint_kgco2e",
          "boundary", "standard", "period_start", "period_end", "stage_raw_materials", "stage_manufacturing",
          "stage_transport", "label_type", "certifier", "certificate_no", "certificate_issued",
          "certificate_expires", "published_on"]  # fmt: skip
PER_T = (860.8, 330.1, 512.5, 18.2)  # total and stages, kg CO2e per t: exact per kg too (÷ 1000, 4 decimals)
NOW = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


def code(n: int) -> str:
    first17 = f"91140400{n:08d}M"
    return first17 + check_character(first17)


def row(key: str, n: int, city: str, *, unit: str = "t", figures: tuple[float, ...] = PER_T,
        certificate: str = "", credit_code: str | None = None) -> list[str]:  # fmt: skip
    scale = 1000 if unit == "kg" else 1
    total, *stages = (f"{f / scale:.4f}" for f in figures)
    certified = ("第三方认证", "示例认证中心", certificate, "2025-03-01", "2027-03-01") if certificate else (
        "自我声明", "", "", "", "")  # fmt: skip
    return [key, f"示例{city}焦化有限公司{n}", credit_code or code(n), city, "焦炭", unit, total, "cradle-to-gate", "ISO 14067:2018",
            "2024-01-01", "2024-12-31", *stages, certified[0], certified[1], certified[2], certified[3],
            certified[4], "2025-06-01"]  # fmt: skip


def upload(db: Any, user: Any, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    result = import_claims(db, user, out.getvalue().encode(), "c.csv")
    assert not getattr(result, "problems", None), result


def flags_of(db: Any, rule_id: str) -> dict[str, Flag]:
    """The rule's flags by their claim's key."""
    return {f.evidence["claim_id"]: f for f in db.scalars(select(Flag).where(Flag.rule_id == rule_id))}


@pytest.fixture
def province(factory):  # type: ignore[no-untyped-def]
    return factory.user(Role.PROVINCE_STAFF, username="shxc")


def test_copied_figures_name_at_most_ten_others_own_city_first_masked_for_a_city_reader(
    db, factory, province
) -> None:  # type: ignore[no-untyped-def]
    cities = ["长治", "太原", "长治", "临汾", "太原", "大同", "长治", "晋中", "阳泉", "晋城", "朔州", "忻州"]
    upload(db, province, [row(f"CP-{n}", n, city) for n, city in enumerate(cities, start=1)])
    scan_claims(db, now=NOW)
    flag = flags_of(db, "COPIED_FIGURES")["CP-2"]  # 太原's company: the second 太原 one comes first
    evidence = flag.evidence
    assert (
        evidence["companies"] == 12 and len(evidence["others"]) == MAX_NAMED and evidence["others_more"] == 1
    )
    assert [o["city"][0] for o in evidence["others"]][:1] == ["太原"]
    assert evidence["others"][0]["claim"] == "CP-5" and "CP-2" not in {o["claim"] for o in evidence["others"]}
    subject = flags_of(db, "COPIED_FIGURES")["CP-1"]  # 长治: its two 长治 peers first
    assert [o["claim"] for o in subject.evidence["others"][:2]] == ["CP-3", "CP-7"]

    changzhi = factory.user(Role.CITY_STAFF, "长治", username="czxc")
    city_text = {loc: subject.message_for(reader_cities(db, changzhi)).text(loc) for loc in ("zh_CN", "en")}
    province_text = {
        loc: subject.message_for(reader_cities(db, province)).text(loc) for loc in ("zh_CN", "en")
    }
    names = {o["claim"]: o["company"] for o in subject.evidence["others"]}
    for loc in ("zh_CN", "en"):
        assert names["CP-3"] in city_text[loc] and names["CP-7"] in city_text[loc]
        assert not any(names[k] in city_text[loc] for k in names if k not in ("CP-3", "CP-7"))
        assert all(name in province_text[loc] for name in names.values())
    assert "其他市企业8家" in city_text["zh_CN"] and "另有1家企业未列出" in city_text["zh_CN"]
    assert (
        "8 companies in other cities" in city_text["en"] and "1 more companies not listed" in city_text["en"]
    )
    assert "声明编号CP-3" in city_text["zh_CN"] and "claim CP-3" in city_text["en"]
    assert (
        "Changzhi" in city_text["en"]
        and "Taiyuan" in province_text["en"]
        and "其他市" not in province_text["zh_CN"]
    )
    assert not CJK.search(
        CJK.sub("", "".join(names.values())) + re.sub("|".join(names.values()), "", city_text["en"])
    )

    # The queue and the detail panel render for their reader: a city bureau never sees the names.
    line = next(x for x in flag_queue(db, changzhi, FlagFilters(statuses=())) if x.id == subject.id)
    assert names["CP-3"] in line.message and names["CP-2"] not in line.message
    detail = flag_detail(db, changzhi, subject.id)
    assert detail is not None and detail.others is not None
    assert {o["claim"] for o in detail.others.named()} == {"CP-3", "CP-7"}
    linked = flags_of(db, "COPIED_FIGURES")
    assert detail.links == {"CP-3": linked["CP-3"].id, "CP-7": linked["CP-7"].id}
    whole = flag_detail(db, province, subject.id)
    assert whole is not None and whole.others is not None and len(whole.others.named()) == MAX_NAMED
    assert whole.links["CP-2"] == linked["CP-2"].id
    # Stored for the record: as for a reader of the flag's own city.
    assert names["CP-2"] not in subject.message_zh and names["CP-3"] in subject.message_zh


def test_a_copy_per_kilogram_of_a_claim_per_tonne_is_a_copy(db, province) -> None:  # type: ignore[no-untyped-def]
    upload(db, province, [row("KG-1", 1, "长治"), row("KG-2", 2, "太原", unit="kg"),
                          row("KG-3", 3, "太原", unit="kg", figures=(861.0, 330.3, 512.5, 18.2))])  # fmt: skip
    scan_claims(db, now=NOW)
    copied = flags_of(db, "COPIED_FIGURES")
    assert set(copied) == {"KG-1", "KG-2"}
    assert copied["KG-2"].evidence["footprint"] == 0.8608 and copied["KG-2"].evidence["declared_unit"] == "kg"
    assert [o["claim"] for o in copied["KG-2"].evidence["others"]] == ["KG-1"]
    assert "（每千克）" in copied["KG-2"].message.text("zh_CN") and "(per kg" not in copied[
        "KG-2"
    ].message.text("zh_CN")


def test_figures_compare_per_base_unit_within_a_dimension_only() -> None:
    per_t = {"id": 1}
    per_kg = {"id": 2, "credit_code": "91140100MA0K3B2C78", "declared_unit": "kg", "footprint": 0.9,
              "stage_raw_materials": 0.4, "stage_manufacturing": 0.45, "stage_transport": 0.05}  # fmt: skip
    rule = RULE_BY_ID["COPIED_FIGURES"]
    assert set(rule.check(frame(per_t, per_kg), Thresholds()).index) == {1, 2}
    per_kwh = {**per_kg, "declared_unit": "kWh"}  # another dimension: the same digits are no copy
    assert rule.check(frame(per_t, per_kwh), Thresholds()).empty
    per_mj = {**per_kg, "declared_unit": "MJ", "footprint": 0.25, "stage_raw_materials": 0.1,
              "stage_manufacturing": 0.125, "stage_transport": 0.025}  # fmt: skip
    per_kwh = {**per_kg, "id": 1, "credit_code": "91140400068288362P", "declared_unit": "kWh", "footprint": 0.9,
               "stage_raw_materials": 0.36, "stage_manufacturing": 0.45, "stage_transport": 0.09}  # fmt: skip
    assert set(rule.check(frame(per_kwh, {**per_mj, "stage_raw_materials": 0.1, "stage_manufacturing": 0.125,
                                          "stage_transport": 0.025}), Thresholds()).index) == {1, 2}  # fmt: skip


@pytest.mark.parametrize("number", ["ab 123", "AB123", "ＡＢ１２３", " Ab\u3000123 "])
def test_certificate_numbers_compare_ignoring_case_spaces_and_full_width(number: str) -> None:
    data = frame({"id": 1, "certificate_no": "AB123"},
                 {"id": 2, "credit_code": "91140100MA0K3B2C78", "footprint": 880.0, "stage_raw_materials": 380.0,
                  "certificate_no": number})  # fmt: skip
    found = RULE_BY_ID["CERTIFICATE_SHARED"].check(data, Thresholds())
    assert set(found.index) == {1, 2} and found.loc[2, "certificate_no"] == number
    assert found.loc[1, "peers"] == [2] and found.loc[2, "peers"] == [1]
    other = frame({"id": 1, "certificate_no": "AB123"}, {"id": 2, "credit_code": "91140100MA0K3B2C78",
                                                         "footprint": 880.0, "certificate_no": "AB1234"})  # fmt: skip
    assert RULE_BY_ID["CERTIFICATE_SHARED"].check(other, Thresholds()).empty


def test_a_shared_certificate_names_the_other_company(db, province) -> None:  # type: ignore[no-untyped-def]
    upload(db, province, [row("CE-1", 1, "长治", certificate="ab 123"),
                          row("CE-2", 2, "长治", figures=(900.0, 400.0, 450.0, 50.0), certificate="AB123")])  # fmt: skip
    scan_claims(db, now=NOW)
    shared = flags_of(db, "CERTIFICATE_SHARED")
    assert set(shared) == {"CE-1", "CE-2"}
    text = shared["CE-1"].message.text("en")
    assert "示例长治焦化有限公司2" in text and "claim CE-2" in text and "2 companies" in text
    assert "示例长治焦化有限公司2（长治，声明编号CE-2）" in shared["CE-1"].message.text("zh_CN")


@pytest.mark.parametrize("credit_code", ["91140400068288362X", "9114040006828836", "91140400068288362I",
                                         "91AB0400068288362P"])  # fmt: skip
def test_an_invalid_credit_code_reads_wholly_in_english(credit_code: str) -> None:
    findings = [f for f in claim_findings(frame({"id": 1, "credit_code": credit_code}))
                if f.rule_id == "INVALID_CREDIT_CODE"]  # fmt: skip
    assert len(findings) == 1 and "errors" not in findings[0].evidence
    message = finding_message(RULE_BY_ID["INVALID_CREDIT_CODE"].message, findings[0].evidence)
    assert message.en.startswith("Unified social credit code") and not CJK.search(message.en), message.en
    assert CJK.search(message.zh) and json.dumps(findings[0].evidence)  # stored as JSON


def test_a_dismissed_copy_stays_dismissed_when_a_third_company_joins(db, province) -> None:  # type: ignore[no-untyped-def]
    upload(db, province, [row("DS-1", 1, "长治"), row("DS-2", 2, "太原")])
    scan_claims(db, now=NOW)
    first = flags_of(db, "COPIED_FIGURES")
    review_flag(db, province, first["DS-1"].id, "dismiss", now=NOW, reason="两家企业为同一集团，共用核算报告")
    upload(db, province, [row("DS-3", 3, "临汾")])
    later = NOW + dt.timedelta(days=1)
    again = scan_claims(db, now=later)
    db.expire_all()
    now_flags = flags_of(db, "COPIED_FIGURES")
    assert set(now_flags) == {"DS-1", "DS-2", "DS-3"} and len(again.new) == 1
    assert now_flags["DS-1"].id == first["DS-1"].id and now_flags["DS-1"].status is FlagStatus.DISMISSED
    assert now_flags["DS-2"].id == first["DS-2"].id and now_flags["DS-2"].status is FlagStatus.OPEN
    assert now_flags["DS-1"].evidence["companies"] == 3  # names the newcomer, still dismissed
    assert {o["claim"] for o in now_flags["DS-1"].evidence["others"]} == {"DS-2", "DS-3"}
    assert now_flags["DS-1"].last_seen.replace(tzinfo=dt.UTC) == later


def _old_shape(db: Any, flag: Flag, evidence: dict[str, Any], message_id: str) -> None:
    """Make a flag look as the scan before issue 21 stored it: its evidence, its message template and
    its fingerprint over the whole evidence."""
    claim = db.get(Claim, flag.subject_id)
    found = {k: v for k, v in evidence.items() if k not in ("claim_id", "benchmark_version", "factor_key",
                                                            "factor_version")}  # fmt: skip
    key = json.dumps([flag.rule_id, "claim", claim.claim_key, claim.content_hash, found], ensure_ascii=False,
                     sort_keys=True, default=str)  # fmt: skip
    flag.fingerprint, flag.evidence, flag.message_id = (
        hashlib.sha256(key.encode()).hexdigest(),
        evidence,
        message_id,
    )
    db.flush()


def test_a_flag_stored_before_names_were_kept_is_neither_reopened_nor_duplicated(db, province) -> None:  # type: ignore[no-untyped-def]
    upload(db, province, [row("OL-1", 1, "长治"), row("OL-2", 2, "太原"), row("OL-3", 3, "长治", figures=(900.0, 400.0, 450.0, 50.0),
                                                                              credit_code="91140400068288362X")])  # fmt: skip
    scan_claims(db, now=NOW)
    copied, invalid = flags_of(db, "COPIED_FIGURES")["OL-1"], flags_of(db, "INVALID_CREDIT_CODE")["OL-3"]
    kept = {k: copied.evidence[k] for k in ("claim_id", "benchmark_version", "factor_key", "factor_version")}
    _old_shape(
        db,
        copied,
        {"footprint": 860.8, "companies": 2, **kept},
        "碳足迹{footprint}及各阶段数值在{companies}家企业间完全相同",
    )
    _old_shape(db, invalid, {"credit_code": "91140400068288362X", "errors": "校验位错误：应为 P，实为 X",
                             **{**kept, "claim_id": "OL-3"}}, "统一社会信用代码{credit_code}无效：{errors}")  # fmt: skip
    old_fingerprint = copied.fingerprint
    review_flag(db, province, copied.id, "dismiss", now=NOW, reason="同一集团")
    count = db.scalar(select(Flag.id).order_by(Flag.id.desc()).limit(1))

    upload(db, province, [row("OL-4", 4, "临汾")])  # upgrade, and a third company joins
    scan_claims(db, now=NOW + dt.timedelta(days=1))
    db.expire_all()
    after = flags_of(db, "COPIED_FIGURES")
    assert after["OL-1"].id == copied.id and after["OL-1"].status is FlagStatus.DISMISSED
    assert after["OL-1"].fingerprint != old_fingerprint and "others" in after["OL-1"].evidence
    assert after["OL-1"].message_id == RULE_BY_ID["COPIED_FIGURES"].message
    assert db.scalars(
        select(Flag).where(Flag.subject_id == copied.subject_id, Flag.rule_id == "COPIED_FIGURES")
    ).all() == [after["OL-1"]]
    new_ids = [f.id for f in db.scalars(select(Flag).where(Flag.id > count))]
    assert new_ids == [after["OL-4"].id]  # only the newcomer's finding is new
    fixed = flags_of(db, "INVALID_CREDIT_CODE")["OL-3"]
    assert fixed.id == invalid.id and fixed.status is FlagStatus.OPEN and "errors" not in fixed.evidence
    assert not CJK.search(fixed.message.text("en").replace(fixed.evidence["credit_code"], ""))
    claim = db.get(Claim, copied.subject_id)
    assert after["OL-1"].fingerprint == fingerprint("COPIED_FIGURES", claim.claim_key, claim.content_hash,
                                                    {"footprint": 860.8})  # fmt: skip
