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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, cast

from sqlalchemy import Table, select, update
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
from tracker.core.json_types import JsonRow
from tracker.core.messages import Message
from tracker.flags.store import CHUNK, LOOKUP, sync_flags
from tracker.models import City, Claim, Flag, FlagStatus, Subject
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


def fingerprint(rule_id: str, claim_key: str, content_hash: str, evidence: Mapping[str, object]) -> str:
    """A finding's identity: rule, claim (key and the content of the version judged) and its evidence —
    only the rule's ``stable`` evidence keys when it has them (a certificate number, the figures, a
    credit code), so a finding stays the same finding, and a dismissal stays, while the other
    companies it names come and go."""
    stable = RULE_BY_ID[rule_id].stable if rule_id in RULE_BY_ID else None
    kept = evidence if stable is None else {k: evidence.get(k) for k in stable}
    key = json.dumps([rule_id, "claim", claim_key, content_hash, kept], ensure_ascii=False, sort_keys=True,
                     default=str)  # fmt: skip
    return hashlib.sha256(key.encode()).hexdigest()


# Evidence keys a rule's earlier evidence lacks: a stored flag without its rule's is of the shape before
# (issue 21: counts without names, problems as Chinese sentences), fingerprinted over all its evidence.
NEW_SHAPE = {"COPIED_FIGURES": "others", "CERTIFICATE_SHARED": "others", "INVALID_CREDIT_CODE": "problems"}


def _named(session: Session, findings: list[ClaimFinding]) -> list[JsonRow]:
    """Each finding's evidence with its ``peers`` (claim ids) replaced by ``others``: each other claim's
    key, company and city (id, and its names in both languages), and ``others_more``, how many of the
    other companies are not listed."""
    wanted = sorted({peer for f in findings for peer in _peers(f.evidence)})
    claims: dict[int, tuple[str, str, int]] = {}
    for chunk in (wanted[start : start + CHUNK] for start in range(0, len(wanted), CHUNK)):
        for claim_id, key, company, city_id in session.execute(
            select(Claim.id, Claim.claim_key, Claim.company_name, Claim.city_id).where(Claim.id.in_(chunk))
        ):
            claims[claim_id] = (key, company, city_id)
    cities = {c.id: [c.short_zh, c.name_en] for c in session.scalars(select(City))} if claims else {}
    shown: list[JsonRow] = []
    for finding in findings:
        if "peers" not in finding.evidence:
            shown.append(finding.evidence)
            continue
        evidence = {k: v for k, v in finding.evidence.items() if k != "peers"}
        others = [{"claim": key, "company": company, "city_id": city_id, "city": cities.get(city_id, ["", ""])}
                  for key, company, city_id in (claims[p] for p in _peers(finding.evidence) if p in claims)]  # fmt: skip
        companies = evidence.get("companies")
        more = companies - 1 - len(others) if isinstance(companies, int) else 0
        shown.append({**evidence, "others": others, "others_more": max(more, 0)})
    return shown


def _peers(evidence: JsonRow) -> list[int]:
    """The claim ids a finding names (``peers``: a list of ids, from the rules)."""
    peers = evidence.get("peers")
    return [p for p in peers if isinstance(p, int)] if isinstance(peers, list) else []


@dataclass(frozen=True)
class _Judged:
    """What a claim flag records of the claim version judged: from the database and the scan's frame."""

    claim_key: str
    content_hash: str
    city_id: int
    pilot_id: int | None
    benchmark_version: int | None
    factor_version: int | None


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
    facts = frame.loc[flagged, ["city_id", "pilot_id", "benchmark_version", "factor_version"]]
    columns = (facts[name].tolist() for name in facts.columns)
    in_frame = dict(zip(flagged, zip(*columns, strict=True), strict=True))
    claims: dict[int, _Judged] = {}
    dialect = session.connection().dialect.name
    for chunk in (flagged[start : start + LOOKUP] for start in range(0, len(flagged), LOOKUP)):
        for claim_id, key, digest in session.execute(
            select(Claim.id, Claim.claim_key, Claim.content_hash).where(one_of(dialect, Claim.id, chunk))
        ):
            city_id, pilot_id, benchmark_version, factor_version = in_frame[claim_id]
            claims[claim_id] = _Judged(key, digest, int(city_id), _int(pilot_id), _int(benchmark_version),
                                       _int(factor_version))  # fmt: skip
    found: dict[str, Callable[[], JsonRow]] = {}
    refresh: set[str] = set()
    by_rule: Counter[str] = Counter()
    for finding, evidence in zip(findings, _named(session, findings), strict=True):
        claim = claims[finding.claim_id]
        by_rule[finding.rule_id] += 1
        key = fingerprint(finding.rule_id, claim.claim_key, claim.content_hash, finding.evidence)
        found[key] = partial(_flag, finding, evidence, claim, thresholds.official_grid_factor)
        if RULE_BY_ID[finding.rule_id].stable is not None:
            refresh.add(key)  # its named others may have changed since: stored afresh when seen again
    rekey_earlier_flags(session)
    synced = sync_flags(session, Subject.CLAIM, found, now=now, refresh=refresh)
    return ClaimScanResult(synced.new, synced.seen_again, synced.closed, by_rule, judged(frame))


def rekey_earlier_flags(session: Session) -> int:
    """Give the stored flags of the shape before (``NEW_SHAPE``) the fingerprint of their stable
    evidence, so the scan finds them again instead of adding a duplicate and closing (or, dismissed,
    forgetting) the old one; the scan then stores their evidence afresh. When several earlier flags
    of one claim become one finding (its count of companies changed before the upgrade), the one a
    reviewer decided keeps it (confirmed or dismissed, then under review, open, resolved; the latest
    seen among equals); the others keep their old fingerprint and close as gone. Returns how many
    were re-keyed."""
    rows = session.execute(
        select(Flag.id, Flag.rule_id, Flag.fingerprint, Flag.evidence, Flag.status, Flag.last_seen, Claim.content_hash)
        .join(Claim, Claim.id == Flag.subject_id)
        .where(Flag.subject_type == Subject.CLAIM, Flag.rule_id.in_(list(NEW_SHAPE)))
    ).all()  # fmt: skip
    taken = {row.fingerprint for row in rows}
    wanted: dict[str, list[Any]] = {}
    for row in rows:
        evidence = row.evidence if isinstance(row.evidence, dict) else {}
        if NEW_SHAPE[row.rule_id] in evidence or not evidence.get("claim_id"):
            continue
        new = fingerprint(row.rule_id, str(evidence["claim_id"]), str(row.content_hash), evidence)
        if new != row.fingerprint and new not in taken:
            wanted.setdefault(new, []).append(row)
    rank = {FlagStatus.CONFIRMED: 0, FlagStatus.DISMISSED: 0, FlagStatus.UNDER_REVIEW: 1, FlagStatus.OPEN: 2}
    table = cast(Table, Flag.__table__)
    for new, candidates in wanted.items():
        keeper = min(candidates, key=lambda r: (rank.get(r.status, 3), -r.last_seen.timestamp(), -r.id))
        session.execute(update(table).where(table.c.id == keeper.id).values(fingerprint=new))
    return len(wanted)


def _flag(finding: ClaimFinding, evidence: JsonRow, claim: _Judged, factor_key: str) -> JsonRow:
    rule = RULE_BY_ID[finding.rule_id]
    evidence = {**evidence, "claim_id": claim.claim_key, "benchmark_version": claim.benchmark_version,
                "factor_key": factor_key, "factor_version": claim.factor_version}  # fmt: skip
    return dict(rule_id=rule.id, severity=rule.severity, subject_id=finding.claim_id, city_id=claim.city_id,
                pilot_id=claim.pilot_id, **_texts(rule.message, evidence, claim.city_id),
                evidence=evidence)  # fmt: skip


def _texts(message_id: str, evidence: JsonRow, city_id: int) -> dict[str, str]:
    """The flag's message id, and its texts as rendered now for a reader of its own city (kept for
    the record; pages render it afresh, for their reader)."""
    try:
        return _rendered(message_id, tuple(evidence.items()), city_id)
    except TypeError:  # an unhashable value in the evidence (the other claims named): render it once
        return _render(message_id, evidence, city_id)


@lru_cache(maxsize=65536)
def _rendered(message_id: str, evidence: tuple[tuple[str, object], ...], city_id: int) -> dict[str, str]:
    """``_render``, remembered within and across scans: many findings share their evidence (a label
    type, a pair of dates), and the texts depend on nothing else (callers unpack it, never change it)."""
    return _render(message_id, dict(evidence), city_id)


def _render(message_id: str, evidence: JsonRow, city_id: int) -> dict[str, str]:
    message = finding_message(message_id, evidence, visible={city_id})
    return {"message_id": message_id, "message_zh": message.zh, "message_en": message.en}


def _int(value: object) -> int | None:
    try:
        return None if value is None or value != value else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
