"""The per-rule, per-kind quality report of bench/rule_quality.py: its arithmetic from flags and labels,
the sample scanned on the backend under test, and the mixed-unit set (tracker.claims.synth.mix_units)
whose per-kg claims the benchmark rules judge like per-tonne ones."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd

from bench.rule_quality import FIXTURES, read_labels, report, scan_flags
from tracker.claims.exchange import normalise_unit
from tracker.claims.registry import import_claims
from tracker.claims.rules import RULES
from tracker.claims.synth import PER_UNIT, generate, mix_units, to_csv
from tracker.models import Role

SAMPLE, LABELS = FIXTURES / "claims_sample.csv", FIXTURES / "claims_sample_labels.csv"
# The rule each labelled kind of the sample is about (its labels name the problem, not the rule).
SAMPLE_KIND_RULE = {
    "below_floor": "BELOW_PHYSICAL_FLOOR", "certificate_after_publication": "CERTIFICATE_AFTER_PUBLICATION",
    "certified_without_certificate": "CERTIFIED_WITHOUT_CERTIFICATE", "duplicate_certificate": "CERTIFICATE_SHARED",
    "expired_certificate": "CERTIFICATE_EXPIRED", "invalid_credit_code": "INVALID_CREDIT_CODE",
    "low_electricity_factor": "LOW_GRID_FACTOR", "offsets_netted": "OFFSETS_NETTED",
    "reduction_inconsistent": "REDUCTION_MISMATCH", "stage_sum_mismatch": "STAGE_SUM_MISMATCH",
    "stale_period": "STALE_PERIOD", "unit_slip": "UNIT_SLIP",
}  # fmt: skip


def test_report_counts_per_rule_and_per_kind_from_the_labels() -> None:
    labels = {"A": "stale", "B": "stale", "C": "", "D": "floor", "E": "", "F": "floor"}
    flags = [
        ("A", "STALE_PERIOD", "medium", {}),
        ("A", "STAGE_SUM_MISMATCH", "high", {}),
        ("C", "STAGE_SUM_MISMATCH", "high", {}),  # a clean claim flagged
        ("D", "UNIT_NOT_COMPARABLE", "low", {}),  # low: listed, but catches nothing
        ("F", "BELOW_PHYSICAL_FLOOR", "high", {}),
        ("X", "BELOW_PHYSICAL_FLOOR", "high", {}),  # not in the labels file
    ]
    result = report(flags, labels)
    assert (result["labelled"], result["caught"], result["clean"], result["false_positives"]) == (4, 2, 2, 1)
    assert result["missed"] == [("B", "stale"), ("D", "floor")]
    assert result["wrongly_flagged"] == ["C"]
    rules = {row["rule"]: row for row in result["rules"]}
    assert [row["rule"] for row in result["rules"]] == [rule.id for rule in RULES]
    assert {k: rules["STAGE_SUM_MISMATCH"][k] for k in ("flagged", "true_positives", "false_positives")} == {
        "flagged": 2, "true_positives": 1, "false_positives": 1}  # fmt: skip
    assert (rules["BELOW_PHYSICAL_FLOOR"]["flagged"], rules["BELOW_PHYSICAL_FLOOR"]["unlabelled"]) == (2, 1)
    assert (rules["UNIT_NOT_COMPARABLE"]["flagged"], rules["UNIT_NOT_COMPARABLE"]["counted"]) == (1, False)
    assert rules["COPIED_FIGURES"]["flagged"] == 0
    kinds = {row["kind"]: row for row in result["kinds"]}
    assert list(kinds) == ["floor", "stale"]
    assert (kinds["stale"]["labelled"], kinds["stale"]["caught"], kinds["stale"]["recall"]) == (2, 1, 0.5)
    assert kinds["stale"]["rules"] == {"STAGE_SUM_MISMATCH": 1, "STALE_PERIOD": 1}
    assert (kinds["floor"]["caught"], kinds["floor"]["recall"], kinds["floor"]["missed"]) == (1, 0.5, ["D"])


def test_the_sample_report_per_rule_and_kind(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.PROVINCE_STAFF, username="quality")
    import_claims(db, user, SAMPLE.read_bytes(), SAMPLE.name)
    result = report(scan_flags(db), read_labels(LABELS))
    with LABELS.open(encoding="utf-8") as handle:
        per_kind = Counter(row["issue"] for row in csv.DictReader(handle))
    clean = per_kind.pop("")
    kinds = {row["kind"]: row for row in result["kinds"]}
    assert {kind: row["labelled"] for kind, row in kinds.items()} == dict(per_kind)
    assert (result["labelled"], result["clean"]) == (sum(per_kind.values()), clean)
    for kind, row in kinds.items():
        assert row["recall"] == row["caught"] / row["labelled"]
        assert SAMPLE_KIND_RULE[kind] in row["rules"], kind  # caught by the rule about it
    assert result["caught"] == sum(row["caught"] for row in kinds.values())
    for row in result["rules"]:
        assert row["flagged"] == row["true_positives"] + row["false_positives"] + row["unlabelled"]
        assert row["unlabelled"] == 0
    assert result["false_positives"] == len(result["wrongly_flagged"])


def test_mix_units_declares_per_kg_and_synonyms_and_keeps_the_labels() -> None:
    frame = generate(600, seed=3, planted_share=0.3)
    mixed = mix_units(frame, seed=3)
    assert (mixed["issue"] == frame["issue"]).all()
    per_kg = (frame["declared_unit"] == "t") & (mixed["declared_unit"] == "kg")
    assert 0.2 < per_kg.sum() / (frame["declared_unit"] == "t").sum() < 0.45
    for column in PER_UNIT:
        before = pd.to_numeric(frame.loc[per_kg, column], errors="coerce").to_numpy(dtype=float)
        after = pd.to_numeric(mixed.loc[per_kg, column], errors="coerce").to_numpy(dtype=float)
        assert np.allclose(after, np.round(before / 1000, 4), equal_nan=True), column
    assert {"吨", "千克", "公斤", "千瓦时", "度"} <= set(mixed["declared_unit"])
    stored = mixed["declared_unit"].map(normalise_unit)
    same = ~per_kg
    assert (stored[same] == frame.loc[same, "declared_unit"].map(normalise_unit)).all()


def test_per_kg_claims_are_judged_like_per_tonne_ones(db, factory) -> None:  # type: ignore[no-untyped-def]
    """The benchmark kinds planted in claims then declared per kg are caught, nothing clean is flagged."""
    frame = generate(600, seed=5, planted_share=0.3)
    mixed = mix_units(frame, seed=5, per_kg_share=1.0, synonym_share=0.0)  # every per-t claim per kg
    user = factory.user(Role.PROVINCE_STAFF, username="quality")
    import_claims(db, user, to_csv(mixed), "mixed.csv")
    result = report(scan_flags(db), dict(zip(mixed["claim_id"], mixed["issue"], strict=True)))
    kinds = {row["kind"]: row for row in result["kinds"]}
    per_kg = set(mixed.loc[(frame["declared_unit"] == "t") & (mixed["declared_unit"] == "kg"), "claim_id"])
    for kind in ("below_floor", "unit_slip", "stage_sum", "offsets", "reduction"):
        members = set(mixed.loc[mixed["issue"] == kind, "claim_id"])
        assert members & per_kg, kind  # the kind is planted in per-kg claims at all
        assert kinds[kind]["recall"] == 1.0, (kind, kinds[kind]["missed"])
    assert result["false_positives"] == 0, result["wrongly_flagged"]
