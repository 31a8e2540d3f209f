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
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.claims.rules import (
    RULE_BY_ID,
    ClaimFinding,
    ClaimRule,
    Thresholds,
    claim_findings,
    claims_frame,
    judged,
    unit_ratios,
)
from tracker.core.db import one_of
from tracker.core.messages import Message
from tracker.flags.store import LOOKUP, sync_flags
from tracker.models import Claim, Subject
from tracker.models.labels import finding_message


@dataclass
class ClaimScanResult:
    new: list[int] = field(default_factory=list)  # ids of the flags added
    seen_again: int = 0
    closed: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    judged: dict[str, int] = field(
        default_factory=dict
    )  # claims each benchmark rule could judge (rules.judged)

    @property
    def summary(self) -> Message:
        """What the scan found, in the reader's language."""
        return Message("新发现{new}条，再次发现{again}条，自动关闭{closed}条", new=len(self.new), again=self.seen_again,
                       closed=self.closed)  # fmt: skip


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
    frame = claims_frame(session, thresholds)
    if not frame.empty:
        frame = frame.assign(unit_ratio=unit_ratios(frame))  # once, for the rules and the summary
    findings = claim_findings(frame, thresholds, on_rule)
    flagged = sorted({finding.claim_id for finding in findings})
    claims = frame.loc[flagged, ["city_id", "pilot_id", "benchmark_version", "factor_version"]].to_dict(
        "index"
    )
    dialect = session.connection().dialect.name
    for chunk in (flagged[start : start + LOOKUP] for start in range(0, len(flagged), LOOKUP)):
        for claim_id, key, digest in session.execute(
            select(Claim.id, Claim.claim_key, Claim.content_hash).where(one_of(dialect, Claim.id, chunk))
        ):
            claims[claim_id].update(claim_key=key, content_hash=digest)
    found: dict[str, Callable[[], dict[str, Any]]] = {}
    by_rule: Counter[str] = Counter()
    for finding in findings:
        claim = claims[finding.claim_id]
        by_rule[finding.rule_id] += 1
        found[_fingerprint(finding, str(claim["claim_key"]), str(claim["content_hash"]))] = partial(
            _flag, finding, claim, thresholds.official_grid_factor
        )
    synced = sync_flags(session, Subject.CLAIM, found, now=now)
    return ClaimScanResult(synced.new, synced.seen_again, synced.closed, by_rule, judged(frame))


def _flag(finding: ClaimFinding, claim: dict[str, Any], factor_key: str) -> dict[str, Any]:
    rule = RULE_BY_ID[finding.rule_id]
    evidence = {**finding.evidence, "claim_id": str(claim["claim_key"]),
                "benchmark_version": _int(claim.get("benchmark_version")),
                "factor_key": factor_key, "factor_version": _int(claim.get("factor_version"))}  # fmt: skip
    return dict(rule_id=rule.id, severity=rule.severity, subject_id=finding.claim_id, city_id=int(claim["city_id"]),
                pilot_id=_int(claim.get("pilot_id")), **_texts(rule.message, finding.evidence), evidence=evidence)  # fmt: skip


def _texts(message_id: str, evidence: dict[str, Any]) -> dict[str, str]:
    """The flag's message id, and its texts as rendered now (kept for the record; pages render it afresh)."""
    try:
        return _rendered(message_id, tuple(evidence.items()))
    except TypeError:  # an unhashable value in the evidence: render it once
        return _render(message_id, evidence)


@lru_cache(maxsize=65536)
def _rendered(message_id: str, evidence: tuple[tuple[str, Any], ...]) -> dict[str, str]:
    """``_render``, remembered within and across scans: many findings share their evidence (a label
    type, a pair of dates), and the texts depend on nothing else (callers unpack it, never change it)."""
    return _render(message_id, dict(evidence))


def _render(message_id: str, evidence: dict[str, Any]) -> dict[str, str]:
    message = finding_message(message_id, evidence)
    return {"message_id": message_id, "message_zh": message.zh, "message_en": message.en}


def _int(value: object) -> int | None:
    try:
        return None if value is None or value != value else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
