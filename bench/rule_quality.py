"""Measure the claim rules against a labelled file: recall and false-positive rate.

Run:  .venv/bin/python -m bench.rule_quality [CLAIMS.csv] [LABELS.csv]
(default: tests/fixtures/claims_sample.csv and its labels, kept in the repository), or
      .venv/bin/python -m bench.rule_quality --synthetic 20000
(claims from tracker.claims.synth, seed 11, 5% with one planted problem each; a check that each kind
of problem is caught and clean claims stay clean, not a second opinion: we wrote the generator). Imports the claims into a fresh
SQLite database, scans them, and counts, at severity high or medium:
  recall = labelled claims with at least one flag / labelled claims
  false-positive rate = clean claims with a flag / clean claims
Results are recorded in docs/RULES.md. The rules are written from docs/DOMAIN.md §6, not tuned to this
file; other data will judge them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path

from sqlalchemy import select

import tracker.audit.trail  # noqa: F401  (audit hooks)
from tracker.access.accounts import create_user
from tracker.catalogue import load_catalogue
from tracker.claims.registry import import_claims
from tracker.claims.scan import scan_claims
from tracker.core.db import make_engine, make_session_factory, transaction
from tracker.core.migrate import upgrade_database
from tracker.models import Claim, Flag, Role, Severity

# The labelled sample lives once in the repository, beside the tests that read it.
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def measure(claims_file: Path, labels_file: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'quality.sqlite3'}"
        upgrade_database(url)
        factory = make_session_factory(make_engine(url))
        with transaction(factory, actor="bench") as session:
            load_catalogue(session)
            user = create_user(session, username="quality", display_name="quality", role=Role.PROVINCE_STAFF,
                               password="Quality-2025-x")  # fmt: skip
            import_claims(session, user, claims_file.read_bytes(), claims_file.name)
            scan_claims(session, now=dt.datetime.now(dt.UTC))
            keys = dict(session.execute(select(Claim.id, Claim.claim_key)).all())
            flags = session.scalars(select(Flag).where(Flag.subject_type == "claim",
                                                       Flag.severity.in_((Severity.HIGH, Severity.MEDIUM)))).all()  # fmt: skip
            flagged = {keys[f.subject_id] for f in flags}
            by_rule = Counter(f.rule_id for f in flags)
    with labels_file.open(encoding="utf-8") as handle:
        labels = {row["claim_id"]: row["issue"].strip() for row in csv.DictReader(handle)}
    bad = [k for k, issue in labels.items() if issue]
    clean = [k for k, issue in labels.items() if not issue]
    return {
        "labelled": len(bad), "caught": sum(k in flagged for k in bad),
        "clean": len(clean), "false_positives": sum(k in flagged for k in clean),
        "missed": sorted((k, labels[k]) for k in bad if k not in flagged),
        "wrongly_flagged": sorted(k for k in clean if k in flagged), "by_rule": dict(sorted(by_rule.items())),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claims", nargs="?", type=Path, default=FIXTURES / "claims_sample.csv")
    parser.add_argument("labels", nargs="?", type=Path, default=FIXTURES / "claims_sample_labels.csv")
    parser.add_argument("--synthetic", type=int, metavar="N", help="generate N labelled claims instead")
    args = parser.parse_args()
    if args.synthetic:
        from tracker.claims.synth import generate, to_csv

        with tempfile.TemporaryDirectory() as tmp:
            frame = generate(args.synthetic, seed=11)
            claims, labels = Path(tmp) / "claims.csv", Path(tmp) / "labels.csv"
            to_csv(frame, claims)
            frame[["claim_id", "issue"]].to_csv(labels, index=False)
            result = measure(claims, labels)
    else:
        result = measure(args.claims, args.labels)
    print(f"recall: {result['caught']}/{result['labelled']}")
    print(f"false positives: {result['false_positives']}/{result['clean']}")
    print(f"missed: {result['missed']}")
    print(f"wrongly flagged: {result['wrongly_flagged']}")
    print("flags by rule:", result["by_rule"])


if __name__ == "__main__":
    main()
