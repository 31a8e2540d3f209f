"""What submitting and reviewing do to a periodic update, the same for a pilot's update and a work-plan
task's (``updates`` and ``workplan``): who and when, late or not, the status and the return reason.
The checks before (permission, version, the review cycle's step, the entry) stay with each kind."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from tracker.models import UpdateStatus


class Reviewed(Protocol):
    """The columns a submitted and reviewed update has (ProgressUpdate, WorkPlanUpdate)."""

    status: UpdateStatus
    submitted_at: dt.datetime | None
    last_submitted_at: dt.datetime | None
    submitted_by_id: int | None
    is_late: bool
    reviewed_at: dt.datetime | None
    reviewed_by_id: int | None
    return_reason: str | None


def mark_submitted(update: Reviewed, user_id: int, now: dt.datetime, *, late: bool) -> None:
    """Submitted now by the user; the first submission decides whether it was late."""
    if update.submitted_at is None:
        update.submitted_at = now
        update.is_late = late
    update.last_submitted_at, update.submitted_by_id = now, user_id
    update.status, update.return_reason = UpdateStatus.SUBMITTED, None


def mark_reviewed(
    update: Reviewed, user_id: int, now: dt.datetime, *, accept: bool, reason: str | None
) -> None:
    """Accepted (then locked) or returned with its reason, by the user, now."""
    update.status = UpdateStatus.ACCEPTED if accept else UpdateStatus.RETURNED
    update.reviewed_at, update.reviewed_by_id = now, user_id
    if not accept:
        update.return_reason = (reason or "").strip()
