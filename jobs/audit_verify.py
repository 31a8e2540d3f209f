"""The nightly audit check: recompute every province's audit chain (tracker.audit.chain); a break is
told to that province's administrators once."""

from __future__ import annotations

from sqlalchemy import select

from jobs.context import SCHEDULER_ACTOR, JobContext
from tracker.audit.chain import combined, last_verification, record_verification, verify_all
from tracker.core.db import transaction
from tracker.core.messages import Message
from tracker.delivery.job_runs import Outcome
from tracker.delivery.notices import tell_audit_break
from tracker.models import Province, RunState


def audit_verify(context: JobContext) -> Outcome:
    """Nightly: recompute every province's audit chain; a break is told to that province's admins once."""
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        results = verify_all(session)
        whole = combined(results)
        if context.dry_run:
            session.rollback()
            return Outcome(
                RunState.SUCCEEDED,
                Message("审计链校验（演算）：{problem}", problem=whole.problem or Message("完好")),
            )
        record_verification(session, results)
        if whole.whole:
            return Outcome(RunState.SUCCEEDED, Message("审计链完好：校验{n}条", n=whole.links))
        everyone = list(session.scalars(select(Province.id)))
        for result in (r for r in results if not r.whole):
            for province_id in [result.province_id] if result.province_id is not None else everyone:
                head = last_verification(session, province_id)
                if head is None or head.told_event_id == result.broken_event_id:
                    continue
                tell_audit_break(session, head, event_id=result.broken_event_id, problem=result.problem or Message("完好"),
                                 now=context.started())  # fmt: skip
                head.told_event_id = result.broken_event_id
        return Outcome(
            RunState.SUCCEEDED,
            Message("审计链发现问题：{problem}（已通知省级管理员）", problem=whole.problem or ""),
        )
