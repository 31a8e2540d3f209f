"""bench.claims times the scan against a bare pandas pass "of the same rules": that pass must count,
rule by rule, what the scan flags, or the ratio compares different work. On a generated file with
planted problems of every kind, and with a per-kg and a per-kWh claim that share their numbers (not
copies: per base unit of a dimension, as the rule compares)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.claims import bare_pandas
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.claims.synth import generate, to_csv
from tracker.models import Role


def test_the_bare_pass_counts_what_the_scan_flags_rule_by_rule(db, factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = generate(4000, seed=7, planted_share=0.2)
    figures = ["footprint_kgco2e", "stage_raw_materials", "stage_manufacturing", "stage_transport",
               "stage_use", "stage_end_of_life"]  # fmt: skip
    first, second = frame.index[:2]
    frame.loc[second, figures] = frame.loc[first, figures].to_numpy()
    frame.loc[first, "declared_unit"], frame.loc[second, "declared_unit"] = "kg", "kWh"
    path = tmp_path / "claims.csv"
    path.write_bytes(to_csv(frame))
    import_claims(db, factory.user(Role.PROVINCE_STAFF, username="bare"), path.read_bytes(), path.name)
    found = scan_claims(db, now=dt.datetime.now(dt.UTC)).by_rule
    counted = bare_pandas(path)
    assert sum(counted.values()) > 400 and counted.get("COPIED_FIGURES", 0) > 0
    assert {rule: n for rule, n in counted.items() if n} == {rule: n for rule, n in found.items() if n}
