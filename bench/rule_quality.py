"""Measure the claim rules against a labelled file: recall and false positives, per rule and per kind.

Run:  .venv/bin/python -m bench.rule_quality [CLAIMS.csv] [LABELS.csv]
(default: tests/fixtures/claims_sample.csv and its labels, kept in the repository), or
      .venv/bin/python -m bench.rule_quality --synthetic 20000 [--mixed-units]
(claims from tracker.claims.synth, seed 11, 5% with one planted problem each; with --mixed-units a
third of the per-tonne claims declared per kilogram, figures divided by 1000, and a third of the rest
with a unit synonym: 吨, 千克, 公斤, 千瓦时, 度 — a check that each kind of problem is caught and
clean claims stay clean, not a second opinion: we wrote the generator), or
      .venv/bin/python -m bench.rule_quality --pact
(the PACT protocol's published examples, tests/fixtures/pact/: unlabelled, so the findings are
listed, each marked expected or not). Add --json for the result as JSON.

Imports the claims into a fresh SQLite database, scans them, and counts, at severity high or medium:
  recall = labelled claims with at least one flag / labelled claims (overall and per kind of problem)
  false positives = clean claims with a flag (overall and per rule)
Per rule: the claims it flagged, how many of them are labelled (true positives) and clean (false
positives); low-severity rules (UNIT_NOT_COMPARABLE) are listed but count in neither total.
Results are recorded in docs/RULES.md. The rules are written from docs/DOMAIN.md §6, not tuned to these
files; other data will judge them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import tracker.audit.trail  # noqa: F401  (audit hooks)
from tracker.access.accounts import create_user
from tracker.catalogue import load_catalogue
from tracker.claims.library import recognise_certifier
from tracker.claims.registry import import_claims
from tracker.claims.rules import RULES
from tracker.claims.scan import scan_claims
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.models import Claim, Flag, Role, Severity, User

# The labelled sample lives once in the repository, beside the tests that read it.
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
COUNTED = (Severity.HIGH, Severity.MEDIUM)  # a flag counts at these severities

# The PACT examples, each imported alone for one company (they carry no Chinese credit code).
PACT_EXAMPLES = ("v2/list-footprints-response.json", "v2/get-footprint-response.json",
                 "v3/list-footprints-response.json", "v3/get-footprint-response.json", "v3/example-1.json",
                 "v3/example-2.json", "v3/example-3.json", "v3/example-4.json")  # fmt: skip
PACT_CODE = "91140400068288362P"  # a valid code (check character included)
PACT_CITY = "长治"
PACT_RECOGNISED = "中国质量认证中心"  # a recognised body none of the examples names
BOOKKEEPING = {"claim_id", "benchmark_version", "factor_key", "factor_version"}  # in every flag's evidence
# What we expect to fire on them, and why (read from the files, not from the results): anything else
# is printed as unexpected.
PACT_EXPECTED = {
    ("v3/get-footprint-response.json", "VERIFIER_NOT_NAMED"): "its verification has an empty providerName",
    ("v3/example-3.json", "UNRECOGNISED_CERTIFIER"): "verified by Auditor X, not on the list kept",
    ("v3/get-footprint-response.json", "PERIOD_AFTER_PUBLICATION"):
        "referencePeriodEnd 2026-01-01 (exclusive: 2025-12-31) is after created 2024-03-01",
    ("v3/list-footprints-response.json", "PERIOD_AFTER_PUBLICATION"):
        "referencePeriodEnd 2026-01-01 (exclusive: 2025-12-31) is after created 2025-03-01",
}  # fmt: skip


@contextmanager
def _database(role: Role = Role.PROVINCE_STAFF) -> Iterator[tuple[Session, User]]:
    """A fresh SQLite database with the catalogue and one province account, in one transaction."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'quality.sqlite3'}"
        upgrade_database(url)
        factory = make_session_factory(make_engine(url))
        with transaction(factory, actor="bench") as session:
            load_catalogue(session)
            user = create_user(session, username="quality", display_name="quality", role=role,
                               password="Quality-2025-x")  # fmt: skip
            yield session, user


def scan_flags(session: Session) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every claim flag of a scan just run: (claim_id, rule, severity, evidence)."""
    scan_claims(session, now=dt.datetime.now(dt.UTC))
    keys = dict(session.execute(select(Claim.id, Claim.claim_key)).all())
    flags = session.scalars(select(Flag).where(Flag.subject_type == "claim")).all()
    return sorted((keys[f.subject_id], f.rule_id, f.severity.value, dict(f.evidence)) for f in flags)


def read_labels(labels_file: Path) -> dict[str, str]:
    """claim_id → kind of problem ("" for a clean claim)."""
    with labels_file.open(encoding="utf-8") as handle:
        return {row["claim_id"]: (row["issue"] or "").strip() for row in csv.DictReader(handle)}


def report(flags: list[tuple[str, str, str, dict[str, Any]]], labels: dict[str, str]) -> dict[str, Any]:
    """Recall and false positives from the flags and the labels, overall, per rule and per kind."""
    counted = [(key, rule) for key, rule, severity, _ in flags if severity in {s.value for s in COUNTED}]
    flagged = {key for key, _ in counted}
    by_rule: defaultdict[str, set[str]] = defaultdict(set)
    for key, rule, _, _ in flags:
        by_rule[rule].add(key)
    bad = sorted(k for k, kind in labels.items() if kind)
    clean = sorted(k for k, kind in labels.items() if not kind)
    rules = [
        {"rule": rule.id, "severity": rule.severity.value, "counted": rule.severity in COUNTED,
         "flagged": len(by_rule[rule.id]), "true_positives": sum(bool(labels.get(k)) for k in by_rule[rule.id]),
         "false_positives": sum(labels.get(k) == "" for k in by_rule[rule.id]),
         "unlabelled": sum(k not in labels for k in by_rule[rule.id])}
        for rule in RULES
    ]  # fmt: skip
    rules_of: defaultdict[str, set[str]] = defaultdict(set)
    for key, rule in counted:
        rules_of[key].add(rule)
    kinds = []
    for kind in sorted({kind for kind in labels.values() if kind}):
        members = [k for k in bad if labels[k] == kind]
        caught = [k for k in members if k in flagged]
        kinds.append({"kind": kind, "labelled": len(members), "caught": len(caught),
                      "recall": len(caught) / len(members),
                      "rules": dict(sorted(Counter(r for k in caught for r in rules_of[k]).items())),
                      "missed": [k for k in members if k not in flagged]})  # fmt: skip
    return {
        "labelled": len(bad), "caught": sum(k in flagged for k in bad),
        "clean": len(clean), "false_positives": sum(k in flagged for k in clean),
        "missed": [(k, labels[k]) for k in bad if k not in flagged],
        "wrongly_flagged": [k for k in clean if k in flagged], "rules": rules, "kinds": kinds,
    }  # fmt: skip


def measure(claims_file: Path, labels_file: Path) -> dict[str, Any]:
    """Import and scan the claims, then ``report`` against the labels."""
    with _database() as (session, user):
        import_claims(session, user, claims_file.read_bytes(), claims_file.name)
        flags = scan_flags(session)
    return report(flags, read_labels(labels_file))


def pact_findings(examples: tuple[str, ...] = PACT_EXAMPLES) -> list[dict[str, Any]]:
    """Each PACT example imported alone (with a credit code and a city) and scanned: its findings, each
    marked with why it is expected, or None. The recognised-certifier list holds one body
    (``PACT_RECOGNISED``), so that ``UNRECOGNISED_CERTIFIER`` judges the examples' verifiers."""
    found = []
    for name in examples:
        with _database(Role.PROVINCE_ADMIN) as (session, user):  # who keeps the list of recognised bodies
            recognise_certifier(session, user, PACT_RECOGNISED)
            path = FIXTURES / "pact" / name
            import_claims(session, user, path.read_bytes(), path.name, city=PACT_CITY, credit_code=PACT_CODE)
            flags = scan_flags(session)
            stored = [{"claim_id": c.claim_key, "product": c.product, "declared_unit": c.declared_unit,
                       "benchmark": c.product_id is not None, "label_type": c.label_type.value,
                       "certifier": c.certifier} for c in session.scalars(select(Claim).order_by(Claim.claim_key))]  # fmt: skip
        found.append({"example": name, "claims": stored, "findings": [
            {"claim_id": key, "rule": rule, "severity": severity, "evidence": evidence,
             "expected": PACT_EXPECTED.get((name, rule))} for key, rule, severity, evidence in flags]})  # fmt: skip
    return found


def _percent(part: int, whole: int) -> str:
    return f"{part:,} / {whole:,} = {part / whole:.1%}" if whole else f"{part} / 0"


def print_report(result: dict[str, Any]) -> None:
    print(f"recall: {_percent(result['caught'], result['labelled'])}")
    print(f"false positives: {_percent(result['false_positives'], result['clean'])}")
    print()
    print(f"{'rule':<31} {'severity':<8} {'flagged':>8} {'true +':>8} {'false +':>8}")
    for row in result["rules"]:
        note = "" if row["counted"] else "  (low: not counted)"
        print(f"{row['rule']:<31} {row['severity']:<8} {row['flagged']:>8,} {row['true_positives']:>8,} "
              f"{row['false_positives']:>8,}{note}")  # fmt: skip
    print()
    print(f"{'kind of problem':<31} {'labelled':>8} {'caught':>8} {'recall':>7}  caught by")
    for row in result["kinds"]:
        rules = ", ".join(f"{rule} {n:,}" for rule, n in row["rules"].items())
        print(f"{row['kind']:<31} {row['labelled']:>8,} {row['caught']:>8,} {row['recall']:>7.1%}  {rules}")
    print()
    print(f"missed: {result['missed'][:20]}{' …' if len(result['missed']) > 20 else ''}")
    wrong = result["wrongly_flagged"]
    print(f"wrongly flagged: {wrong[:20]}{' …' if len(wrong) > 20 else ''}")


def print_pact(found: list[dict[str, Any]]) -> None:
    for example in found:
        print(f"{example['example']}: {len(example['findings'])} finding(s)")
        for c in example["claims"]:
            benchmark = "a benchmark" if c["benchmark"] else "no benchmark"
            print(f"  claim {c['claim_id']}: {c['product']} per {c['declared_unit']} ({benchmark}), "
                  f"{c['label_type']}, certifier {c['certifier']!r}")  # fmt: skip
        for f in example["findings"]:
            why = f"expected: {f['expected']}" if f["expected"] else "NOT EXPECTED"
            evidence = {k: v for k, v in f["evidence"].items() if k not in BOOKKEEPING}
            print(f"  {f['rule']} ({f['severity']})  {evidence}  — {why}")
    print()
    seen = {(e["example"], f["rule"]) for e in found for f in e["findings"]}
    for (name, rule), why in PACT_EXPECTED.items():
        if (name, rule) not in seen:
            print(f"expected but not found: {name} {rule} ({why})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claims", nargs="?", type=Path, default=FIXTURES / "claims_sample.csv")
    parser.add_argument("labels", nargs="?", type=Path, default=FIXTURES / "claims_sample_labels.csv")
    parser.add_argument("--synthetic", type=int, metavar="N", help="generate N labelled claims instead")
    parser.add_argument("--mixed-units", action="store_true",
                        help="with --synthetic: per-kg claims and unit synonyms (synth.mix_units)")  # fmt: skip
    parser.add_argument("--pact", action="store_true", help="scan the PACT examples instead")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if args.mixed_units and not args.synthetic:
        parser.error("--mixed-units needs --synthetic N")
    result: Any
    if args.pact:
        result = pact_findings()
    elif args.synthetic:
        from tracker.claims.synth import generate, mix_units, to_csv

        with tempfile.TemporaryDirectory() as tmp:
            frame = generate(args.synthetic, seed=11)
            if args.mixed_units:
                frame = mix_units(frame, seed=11)
            claims, labels = Path(tmp) / "claims.csv", Path(tmp) / "labels.csv"
            to_csv(frame, claims)
            frame[["claim_id", "issue"]].to_csv(labels, index=False)
            result = measure(claims, labels)
    else:
        result = measure(args.claims, args.labels)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    elif args.pact:
        print_pact(result)
    else:
        print_report(result)


if __name__ == "__main__":
    main()
