"""Each claim rule flags its case and not a clean twin; every rule is documented and has both cases;
on the sample, the rules run over real imported claims."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.fixtures import FIXTURES
from tracker.claims.exchange import unit_ratio
from tracker.claims.rules import RULES, Thresholds, claim_findings, claims_frame, coerce_types, judged
from tracker.core.i18n import catalogue
from tracker.models.labels import finding_message

CLEAN: dict[str, Any] = {
    "id": 1, "claim_key": "C-1", "credit_code": "91140400068288362P", "product_id": 1, "declared_unit": "t",
    "benchmark_unit": "t", "footprint": 900.0, "stage_raw_materials": 400.0, "stage_manufacturing": 450.0,
    "stage_transport": 50.0, "stage_use": 0.0, "stage_end_of_life": 0.0, "plausible_low": 500.0, "typical": 900.0,
    "plausible_high": 1600.0, "physical_floor": 400.0, "offsets": 0.0, "label_type": "third_party",
    "certificate_no": "CFP-1", "certificate_issued": dt.date(2025, 3, 1), "certificate_expires": dt.date(2027, 3, 1),
    "published_on": dt.date(2025, 6, 1), "period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 12, 31),
    "electricity_kwh": 100.0, "electricity_factor": 0.6361, "official_factor": 0.6361, "green_power_kwh": 0.0,
    "baseline": None, "claimed_reduction_pct": None, "boundary": "cradle_to_gate", "certifier": "示例认证中心",
    "certifier_list_kept": True, "certifier_recognised": True, "source": "csv",
}  # fmt: skip
OTHER = {"id": 2, "claim_key": "C-2", "credit_code": "91140100MA0K3B2C78", "footprint": 880.0,
         "stage_raw_materials": 380.0, "certificate_no": "CFP-2"}  # fmt: skip

CASES: dict[str, dict[str, Any]] = {
    "STAGE_SUM_MISMATCH": {"footprint": 700.0},
    "BELOW_PHYSICAL_FLOOR": {"footprint": 300.0, "stage_raw_materials": 100.0, "stage_manufacturing": 150.0},
    "OUTSIDE_PLAUSIBLE_RANGE": {"footprint": 1700.0, "stage_manufacturing": 1250.0},
    "UNIT_SLIP": {"footprint": 0.9, "stage_raw_materials": 0.4, "stage_manufacturing": 0.45, "stage_transport": 0.05},
    "UNIT_NOT_COMPARABLE": {"declared_unit": "piece"},
    "OFFSETS_NETTED": {"offsets": 120.0},
    "CERTIFIED_WITHOUT_CERTIFICATE": {"certificate_no": None, "certificate_issued": None, "certificate_expires": None},
    "VERIFIER_NOT_NAMED": {"source": "pact", "certificate_no": None, "certifier": None},
    "CERTIFICATE_EXPIRED": {"certificate_expires": dt.date(2025, 5, 1)},
    "CERTIFICATE_AFTER_PUBLICATION": {"certificate_issued": dt.date(2025, 7, 1)},
    "CERTIFICATE_SHARED": {"certificate_no": "CFP-2"},
    "PERIOD_AFTER_PUBLICATION": {"period_end": dt.date(2025, 12, 31)},
    "STALE_PERIOD": {"period_start": dt.date(2020, 1, 1), "period_end": dt.date(2020, 12, 31)},
    "LOW_GRID_FACTOR": {"electricity_factor": 0.3},
    "REDUCTION_MISMATCH": {"baseline": 1000.0, "claimed_reduction_pct": 30.0},
    "GRAVE_WITHOUT_USE_STAGES": {"boundary": "cradle_to_grave"},
    "INVALID_CREDIT_CODE": {"credit_code": "91140400068288362X"},
    "COPIED_FIGURES": {"credit_code": "91140100MA0K3B2C78", "claim_key": "C-1b"},
    "UNRECOGNISED_CERTIFIER": {"certifier": "无名认证社", "certifier_recognised": False},
}  # fmt: skip


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return coerce_types(pd.DataFrame([{**CLEAN, **row} for row in rows])).set_index("id", drop=False)


def flagged(rule_id: str, data: pd.DataFrame) -> set[int]:
    rule = next(r for r in RULES if r.id == rule_id)
    return set(rule.check(data, Thresholds()).index)


def test_every_rule_is_documented_and_has_a_case() -> None:
    assert {r.id for r in RULES} == set(CASES)
    rules_doc = (Path(__file__).resolve().parents[2] / "docs" / "RULES.md").read_text(encoding="utf-8")
    assert all(f"`{r.id}`" in rules_doc for r in RULES), "every rule is listed in docs/RULES.md"
    for rule in RULES:
        assert len(rule.reason) > 60, f"{rule.id} needs a docstring giving its regulatory reason"
        assert rule.message and catalogue("en").get(rule.message) and rule.severity


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_the_rule_flags_its_case_and_not_the_clean_twin(rule_id: str) -> None:
    twin = {**OTHER, "id": 2}
    if rule_id == "COPIED_FIGURES":
        bad = frame({"id": 1}, {**CASES[rule_id], "id": 2})  # the same figures, another company
    else:
        bad = frame({**CASES[rule_id], "id": 1}, twin)
    assert 1 in flagged(rule_id, bad)
    clean = frame({"id": 1}, twin)
    assert flagged(rule_id, clean) == set(), f"{rule_id} flags a clean claim"
    rule = next(r for r in RULES if r.id == rule_id)
    evidence = rule.check(bad, Thresholds()).loc[1].to_dict()
    message = finding_message(
        rule.message, evidence
    )  # every placeholder is in the evidence, in both languages
    assert message.zh and message.en and "{" not in message.zh + message.en


def test_the_rules_run_over_imported_claims(db, factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.claims.registry import import_claims
    from tracker.models import Claim, Role

    sample = FIXTURES / "claims_sample.csv"
    import_claims(db, factory.user(Role.PROVINCE_STAFF, username="shrl"), sample.read_bytes(), "claims.csv")
    data = claims_frame(db)
    assert len(data) == 120 and data["benchmark_id"].notna().sum() > 100
    findings = claim_findings(data)
    labels = pd.read_csv(FIXTURES / "claims_sample_labels.csv").fillna("")
    keys = dict(db.execute(select(Claim.id, Claim.claim_key)).all())
    flagged_keys = {keys[f.claim_id] for f in findings}
    labelled = set(labels.loc[labels["issue"] != "", "claim_id"])
    assert (
        flagged_keys & labelled
    )  # the rules find real problems in real rows (figures: docs/RULES.md, later)


def test_scanning_is_idempotent_dismissals_stick_and_corrections_close(db, factory) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from sqlalchemy import select

    from tracker.claims.registry import import_claims
    from tracker.claims.scan import scan_claims
    from tracker.flags.review import review_flag
    from tracker.flags.store import AUTO_CLOSED
    from tracker.models import Flag, FlagStatus, Role

    province = factory.user(Role.PROVINCE_STAFF, username="shsc")
    sample = FIXTURES / "claims_sample.csv"
    rows = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8"))))
    header = rows[0]
    rows = [header, *[r for r in rows[1:] if r[0] in ("CL-10001", "CL-10002")]]
    rows[2][header.index("footprint_kgco2e")] = "5000"  # CL-10002 stages no longer add up, out of range too

    def upload(data: list[list[str]]) -> None:
        out = io.StringIO()
        csv.writer(out).writerows(data)
        import_claims(db, province, out.getvalue().encode(), "c.csv")

    upload(rows)
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    first = scan_claims(db, now=now)
    new = [db.get(Flag, flag_id) for flag_id in first.new]
    assert new and all(f.subject_type == "claim" for f in new)
    assert {f.evidence["claim_id"] for f in new} == {"CL-10002"}
    assert all(f.evidence["benchmark_version"] == 1 for f in new)
    again = scan_claims(db, now=now)
    assert (len(again.new), again.seen_again) == (0, len(first.new))
    dismissed = new[0]
    review_flag(db, province, dismissed.id, "dismiss", now=now, reason="企业说明为特殊工艺")
    scan_claims(db, now=now)
    assert dismissed.status is FlagStatus.DISMISSED
    fixed = [list(r) for r in rows]
    stages = sum(
        float(fixed[2][header.index(c)] or 0)
        for c in (
            "stage_raw_materials",
            "stage_manufacturing",
            "stage_transport",
            "stage_use",
            "stage_end_of_life",
        )
    )
    fixed[2][header.index("footprint_kgco2e")] = f"{stages:.4f}"  # the total now equals its stages
    upload(fixed)  # a corrected version of the claim
    closed = scan_claims(db, now=now)
    open_flags = db.scalars(
        select(Flag).where(Flag.subject_type == "claim", Flag.status == FlagStatus.OPEN)
    ).all()
    assert closed.closed >= 1 and not open_flags
    for flag in new:
        db.refresh(flag)
    assert all(f.reason == AUTO_CLOSED.zh for f in new if f is not dismissed)


def test_no_certifier_list_no_judgement() -> None:
    unlisted = frame({"id": 1, "certifier_list_kept": False, "certifier_recognised": False})
    assert flagged("UNRECOGNISED_CERTIFIER", unlisted) == set()


def test_the_recognised_list_is_the_provincial_admins(db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.access.permissions import PermissionDenied
    from tracker.claims.library import recognise_certifier, recognised_certifiers
    from tracker.models import Role

    admin = factory.user(Role.PROVINCE_ADMIN, username="admce")
    recognise_certifier(db, admin, "示例认证中心", accreditation_no="CNCA-R-2025-001")
    recognise_certifier(db, admin, "已撤销认证社", active=False)
    assert recognised_certifiers(db) == {"示例认证中心"}
    with pytest.raises(PermissionDenied):
        recognise_certifier(db, factory.user(Role.CITY_STAFF, "长治", username="czce"), "某认证社")


def test_each_flag_is_handed_out_for_notice_once(db, factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.claims.registry import import_claims
    from tracker.claims.scan import scan_claims
    from tracker.flags.store import flags_to_notify, mark_notified
    from tracker.models import Flag, Role

    province = factory.user(Role.PROVINCE_STAFF, username="shnt")
    sample = FIXTURES / "claims_sample.csv"
    import_claims(db, province, sample.read_bytes(), "claims.csv")
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    scan = scan_claims(db, now=now)
    waiting = flags_to_notify(db, "claim")
    assert sorted(f.id for f in waiting) == sorted(scan.new)
    first = mark_notified(db, [f.id for f in waiting], now=now)
    second = mark_notified(db, [f.id for f in waiting], now=now + dt.timedelta(minutes=1))  # a racing sender
    assert first == sorted(scan.new) and second == [] and flags_to_notify(db, "claim") == []
    db.expire_all()
    assert {f.notified_at for f in db.scalars(select(Flag).where(Flag.id.in_(first)))} == {now}
    scan_claims(db, now=now + dt.timedelta(days=1))  # seen again: not handed out again
    assert flags_to_notify(db, "claim") == []


def test_flag_messages_name_labels_units_and_dates_in_chinese(db, factory) -> None:  # type: ignore[no-untyped-def]
    import re

    from sqlalchemy import select

    from tracker.claims.registry import import_claims
    from tracker.claims.scan import scan_claims
    from tracker.models import Flag, Role

    sample = FIXTURES / "claims_sample.csv"
    import_claims(db, factory.user(Role.PROVINCE_STAFF, username="shzh"), sample.read_bytes(), "claims.csv")
    scan_claims(db, now=dt.datetime(2026, 11, 24, tzinfo=dt.UTC))
    messages = {f.rule_id: f.message_zh for f in db.scalars(select(Flag))}
    assert (
        "第三方认证" in messages["CERTIFIED_WITHOUT_CERTIFICATE"]
        or "碳中和" in messages["CERTIFIED_WITHOUT_CERTIFICATE"]
    )
    assert re.search(r"证书已于\d{4}年\d{1,2}月\d{1,2}日过期", messages["CERTIFICATE_EXPIRED"])
    assert not any(
        re.search(r"third_party|carbon_neutral|cradle_to|\d{4}-\d{2}-\d{2}", m) for m in messages.values()
    )


def test_a_scan_with_no_claims_finds_nothing(db) -> None:  # type: ignore[no-untyped-def]
    from tracker.claims.scan import scan_claims

    assert claims_frame(db).empty
    assert scan_claims(db, now=dt.datetime(2026, 11, 24, tzinfo=dt.UTC)).new == []


BENCHMARK_RULES = ("BELOW_PHYSICAL_FLOOR", "OUTSIDE_PLAUSIBLE_RANGE", "UNIT_SLIP", "UNIT_NOT_COMPARABLE")


def benchmark_findings(**claim: Any) -> dict[str, dict[str, Any]]:
    data = frame({**claim, "id": 1}, {**OTHER, "id": 2})
    return {
        f.rule_id: f.evidence
        for f in claim_findings(data)
        if f.claim_id == 1 and f.rule_id in BENCHMARK_RULES
    }


def per_kg(figure: float) -> dict[str, Any]:
    """The clean claim declared per kilogram against its per-tonne benchmark (every figure ÷ 1000)."""
    return {"declared_unit": "kg", "footprint": figure, "stage_raw_materials": figure * 400 / 900,
            "stage_manufacturing": figure * 450 / 900, "stage_transport": figure * 50 / 900}  # fmt: skip


def test_a_claim_per_kilogram_is_judged_against_a_per_tonne_benchmark() -> None:
    assert benchmark_findings(**per_kg(0.9)) == {}  # 900 kg CO2e/t: typical, as the same claim per t
    assert benchmark_findings(**per_kg(0.3)) == {"BELOW_PHYSICAL_FLOOR": {"footprint": 300.0, "floor": 400.0}}
    assert benchmark_findings(**per_kg(1.7)) == {
        "OUTSIDE_PLAUSIBLE_RANGE": {"footprint": 1700.0, "low": 500.0, "high": 1600.0}
    }


def test_a_unit_slip_is_found_through_a_conversion_too() -> None:
    """Per kg, but the figure written is the per-tonne one ÷ 1000 again: 0.0009 per kg is 0.9 per t."""
    assert set(benchmark_findings(**per_kg(0.0009))) >= {"UNIT_SLIP"}


@pytest.mark.parametrize(("declared", "benchmark", "ratio"), [
    ("kg", "t", 1000.0), ("t", "kg", 0.001), ("g", "kg", 1000.0), ("L", "m3", 1000.0),
    ("bottle_500ml", "L", 2.0), ("kWh", "MWh", 1000.0), ("MJ", "GJ", 1000.0), ("kWh", "MJ", 1 / 3.6),
    ("t", "t", 1.0), ("piece", "t", None), ("kg", "kWh", None), ("kWp", "kWp", 1.0), ("kWp", "kWh", None),
])  # fmt: skip
def test_units_convert_within_their_dimension_only(
    declared: str, benchmark: str, ratio: float | None
) -> None:
    found = unit_ratio(declared, benchmark)
    assert found == ratio if ratio is None else found == pytest.approx(ratio)


def test_a_claim_whose_unit_does_not_convert_is_listed_not_skipped() -> None:
    assert benchmark_findings(declared_unit="piece", footprint=1.0) == {
        "UNIT_NOT_COMPARABLE": {"declared_unit": "piece", "benchmark_unit": "t"}
    }
    assert benchmark_findings(declared_unit="piece", footprint=1.0, benchmark_unit=None,
                              physical_floor=None, plausible_low=None) == {}  # fmt: skip  # no benchmark: nothing to compare


def test_the_scan_says_how_many_claims_each_benchmark_rule_could_judge() -> None:
    data = frame({**per_kg(0.9), "id": 1}, {"id": 2, "claim_key": "C-2", "declared_unit": "piece"},
                 {"id": 3, "claim_key": "C-3", "benchmark_unit": None, "physical_floor": None, "plausible_low": None})  # fmt: skip
    assert judged(data) == {"BELOW_PHYSICAL_FLOOR": 1, "OUTSIDE_PLAUSIBLE_RANGE": 1, "UNIT_SLIP": 1,
                            "UNIT_NOT_COMPARABLE": 1}  # fmt: skip


def test_a_pact_claim_is_held_to_its_verifier_not_to_a_certificate_number() -> None:
    """PACT has no field for a certificate number: an assured PACT claim without one is not flagged for
    it; one that names no verifier is, and a named verifier is judged against the recognised list."""
    named = {"id": 1, "source": "pact", "certificate_no": None, "certificate_issued": None}
    assert flagged("CERTIFIED_WITHOUT_CERTIFICATE", frame(named)) == set()
    assert flagged("VERIFIER_NOT_NAMED", frame(named)) == set()
    assert flagged("VERIFIER_NOT_NAMED", frame({**named, "certifier": " "})) == {1}
    assert (
        flagged("VERIFIER_NOT_NAMED", frame({**named, "certifier": None, "label_type": "self_declared"}))
        == set()
    )
    assert flagged(
        "UNRECOGNISED_CERTIFIER", frame({**named, "certifier": "My Auditor", "certifier_recognised": False})
    ) == {1}
