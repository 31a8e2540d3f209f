"""Scanning claims into flags: every claim rule over every current claim version, recorded in the
flags table the progress checks share.

A finding is identified by rule, claim (its ``claim_id`` and the content of the version judged) and
evidence, so scanning twice records nothing new; a dismissed flag stays dismissed while the claim is
unchanged (a new version is a new finding); an open flag whose finding is gone (the claim was
corrected, or the library changed) closes itself with a note. Each flag records the benchmark and
factor versions it was judged against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.claim_rules import RULE_BY_ID, ClaimFinding, ClaimRule, Thresholds, claim_findings, claims_frame
from tracker.consistency import AUTO_CLOSED
from tracker.models import Flag, FlagStatus


@dataclass
class ClaimScanResult:
    new: list[Flag] = field(default_factory=list)
    seen_again: int = 0
    closed: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)

    def summary_zh(self) -> str:
        return f"新发现{len(self.new)}条，再次发现{self.seen_again}条，自动关闭{self.closed}条"


def _fingerprint(finding: ClaimFinding, claim_key: str, content_hash: str) -> str:
    key = json.dumps([finding.rule_id, "claim", claim_key, content_hash, finding.evidence], ensure_ascii=False,
                     sort_keys=True, default=str)  # fmt: skip
    return hashlib.sha256(key.encode()).hexdigest()


def scan_claims(
    session: Session,
    *,
    now: dt.datetime,
    thresholds: Thresholds | None = None,
    on_rule: Callable[[ClaimRule], None] | None = None,
) -> ClaimScanResult:
    """Run every claim rule and bring the claim flags up to date (see the module's docstring)."""
    thresholds = thresholds or Thresholds()
    result = ClaimScanResult()
    frame = claims_frame(session, thresholds)
    existing = {f.fingerprint: f for f in session.scalars(select(Flag).where(Flag.subject_type == "claim"))}
    found: set[str] = set()
    for finding in claim_findings(frame, thresholds, on_rule):
        claim = frame.loc[finding.claim_id]
        fingerprint = _fingerprint(finding, str(claim["claim_key"]), str(claim["content_hash"]))
        found.add(fingerprint)
        result.by_rule[finding.rule_id] += 1
        flag = existing.get(fingerprint)
        if flag is not None:
            flag.last_seen = now
            result.seen_again += 1
            if flag.status is FlagStatus.RESOLVED and flag.reason == AUTO_CLOSED:
                flag.status, flag.reason, flag.closed_at = FlagStatus.OPEN, None, None  # it came back
            continue
        rule = RULE_BY_ID[finding.rule_id]
        evidence = {**finding.evidence, "claim_id": str(claim["claim_key"]),
                    "benchmark_version": _int(claim.get("benchmark_version")),
                    "factor_version": _int(claim.get("factor_version"))}  # fmt: skip
        flag = Flag(fingerprint=fingerprint, rule_id=rule.id, severity=rule.severity, subject_type="claim",
                    subject_id=finding.claim_id, city_id=int(claim["city_id"]), pilot_id=_int(claim.get("pilot_id")),
                    message_zh=rule.message_zh.format(**finding.evidence), message_en=rule.message_en.format(**finding.evidence),
                    evidence=evidence, status=FlagStatus.OPEN, first_seen=now, last_seen=now)  # fmt: skip
        session.add(flag)
        result.new.append(flag)
    for fingerprint, flag in existing.items():
        if fingerprint not in found and flag.status in (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW):
            flag.status, flag.reason, flag.closed_at = FlagStatus.RESOLVED, AUTO_CLOSED, now
            result.closed += 1
    session.flush()
    return result


def _int(value: object) -> int | None:
    try:
        return None if value is None or value != value else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
