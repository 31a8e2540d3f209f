"""Bringing stored flags up to date with a scan's findings: the one place both scans (progress
checks, claim rules) record what they found.

A finding already stored is only marked seen again (and reopened if a scan had closed it); a new one
becomes a flag; a stored open or under-review flag whose finding is gone closes itself with a note.
Dismissed and confirmed flags are left as the reviewer left them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Flag, FlagStatus

AUTO_CLOSED = (
    "复查未再发现（数据已更正），自动关闭 / closed automatically: the finding is gone after a correction"
)


@dataclass
class Synced:
    new: list[Flag] = field(default_factory=list)
    seen_again: int = 0
    closed: int = 0


def sync_flags(session: Session, subject_type: str, found: dict[str, Callable[[], Flag]], *,
               now: dt.datetime) -> Synced:  # fmt: skip
    """``found`` maps each finding's fingerprint to a function building its flag (called only for
    findings not stored yet)."""
    result = Synced()
    existing = {
        f.fingerprint: f for f in session.scalars(select(Flag).where(Flag.subject_type == subject_type))
    }
    for fingerprint, build in found.items():
        flag = existing.get(fingerprint)
        if flag is None:
            flag = build()
            flag.fingerprint, flag.subject_type, flag.status = fingerprint, subject_type, FlagStatus.OPEN
            flag.first_seen = flag.last_seen = now
            session.add(flag)
            result.new.append(flag)
            continue
        flag.last_seen = now
        result.seen_again += 1
        if flag.status is FlagStatus.RESOLVED and flag.reason == AUTO_CLOSED:
            flag.status, flag.reason, flag.closed_at = FlagStatus.OPEN, None, None  # it came back
    for fingerprint, flag in existing.items():
        if fingerprint not in found and flag.status in (FlagStatus.OPEN, FlagStatus.UNDER_REVIEW):
            flag.status, flag.reason, flag.closed_at = FlagStatus.RESOLVED, AUTO_CLOSED, now
            result.closed += 1
    session.flush()
    return result
