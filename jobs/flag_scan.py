"""The nightly flag scan: every claim rule and every progress check; new findings become flags
(once), then the flags not yet told are told to their city and the province (jobs.flag_notice)."""

from __future__ import annotations

from jobs.context import SCHEDULER_ACTOR, JobContext
from jobs.flag_notice import notify_new_flags
from tracker.claims.scan import scan_claims
from tracker.core.db import transaction
from tracker.core.messages import Message
from tracker.delivery.job_runs import Outcome
from tracker.models import RunState
from tracker.progress.consistency import checks_from, scan_progress


def flag_scan(context: JobContext) -> Outcome:
    """Nightly: every claim rule and every progress check; new findings become flags (once)."""
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        now = context.started()
        claims, progress = (
            scan_claims(session, now=now),
            scan_progress(session, now=now, checks=checks_from(context.settings)),
        )
        summary = Message("声明核查：新发现{new}条，再次发现{again}条，自动关闭{closed}条；"
                          "进度核查：新发现{p_new}条，再次发现{p_again}条，自动关闭{p_closed}条",
                          new=len(claims.new), again=claims.seen_again, closed=claims.closed, p_new=len(progress.new),
                          p_again=progress.seen_again, p_closed=progress.closed)  # fmt: skip
        if context.dry_run:
            session.rollback()
    notice, _delivery = notify_new_flags(context)
    return Outcome(RunState.SUCCEEDED, Message("{summary}；{notice}", summary=summary, notice=notice))
