"""Every scheduled job, declared in one place: its id, Chinese name, default schedule (cron, in the
configured time zone; ``TRACKER_SCHEDULE_<ID>`` replaces it), which period a run stands for, and the
work. A run is claimed per job and period (tracker.delivery.job_runs), so nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from tracker.core.clock import now_utc
from tracker.core.config import SCHEDULE_PREFIX, Settings, SettingsError
from tracker.core.db import TrackerSession, transaction
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.periods import Frequency, parse_period, period_of, previous_period
from tracker.delivery.job_runs import Claim, Outcome
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date
from tracker.models import RunState

SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True)
class JobContext:
    factory: sessionmaker[TrackerSession]
    settings: Settings
    period: str
    dry_run: bool = False
    claim: Claim | None = None  # None for a dry run
    now: dt.datetime | None = None  # when the run started (UTC); None: the clock's now
    force: bool = False  # a bulletin built before its period's updates are due (the administrator confirmed)

    def started(self) -> dt.datetime:
        return self.now or now_utc()

    def today(self) -> dt.date:
        """The local date of the run (the configured time zone, whatever the server's)."""
        return self.started().astimezone(self.settings.timezone).date()


@dataclass(frozen=True)
class JobSpec:
    id: str
    name_zh: str
    default_cron: str
    period: Callable[[dt.datetime], str]  # the period a run at this local time stands for
    work: Callable[[JobContext], Outcome]
    kind: PeriodKind = "day"

    def normalize_period(self, text: str) -> str:
        """The canonical period key of ``text`` for this job (2026-10, 2026Q3, 2026-11-24), or a
        clear refusal."""
        return normalize_period(self.kind, text)

    def cron(self, settings: Settings) -> str:
        return settings.schedules.get(self.id, self.default_cron)

    def trigger(self, settings: Settings) -> CronTrigger:
        try:
            return CronTrigger.from_crontab(self.cron(settings), timezone=settings.timezone)
        except ValueError as error:
            name = f"{SCHEDULE_PREFIX}{self.id.upper()}"
            raise SettingsError(
                f"{name} 不是有效的 cron 表达式 / is not a valid cron line: {error}"
            ) from None


PeriodKind = Literal["day", "month", "quarter", "correction"]


def day_period(local: dt.datetime) -> str:
    return local.date().isoformat()


def previous_month(local: dt.datetime) -> str:
    """A run in November reports on October."""
    return previous_period(period_of(local.date(), Frequency.MONTHLY)).key


def previous_quarter(local: dt.datetime) -> str:
    """A run in January reports on the fourth quarter of the year before."""
    return previous_period(period_of(local.date(), Frequency.QUARTERLY)).key


def normalize_period(kind: PeriodKind, text: str) -> str:
    if kind == "correction":  # 2026-11#1: the first correction of 2026-11 (asked for through jobs.control)
        period, _sep, number = text.partition("#")
        if not number.isdigit() or int(number) < 1:
            raise TrackerError(f"更正期别格式不正确：{text}", f"Not a correction: {text} (use 2026-11#1)")
        return f"{period}#{int(number)}"
    if kind == "month":
        return parse_period(text, Frequency.MONTHLY).key
    if kind == "quarter":
        return parse_period(text, Frequency.QUARTERLY).key
    try:
        return parse_chinese_or_iso_date(text).isoformat()
    except TrackerError:
        raise TrackerError(f"日期格式不正确：{text}（应为 2026-11-24 或 2026年11月24日）",
                           f"Not a day: {text} (use 2026-11-24)") from None  # fmt: skip


def flag_scan(context: JobContext) -> Outcome:
    """Nightly: every claim rule and every progress check; new findings become flags (once)."""
    from jobs.flag_notice import notify_new_flags
    from tracker.claims.scan import scan_claims
    from tracker.progress.consistency import scan_progress

    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        now = context.started()
        claims, progress = scan_claims(session, now=now), scan_progress(session, now=now)
        summary = (f"声明核查：{claims.summary_zh()}；进度核查：新发现{len(progress.new)}条，"
                   f"再次发现{progress.seen_again}条，自动关闭{progress.closed}条")  # fmt: skip
        if context.dry_run:
            session.rollback()
    notice, _delivery = notify_new_flags(context)
    return Outcome(RunState.SUCCEEDED, f"{summary}；{notice}")


def audit_verify(context: JobContext) -> Outcome:
    """Nightly: recompute every province's audit chain; a break is told to that province's admins once."""
    from tracker.audit.chain import combined, last_verification, record_verification, verify_all
    from tracker.delivery.notices import tell_audit_break
    from tracker.models import Province

    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        results = verify_all(session)
        whole = combined(results)
        if context.dry_run:
            session.rollback()
            return Outcome(RunState.SUCCEEDED, f"审计链校验（演算）：{whole.problem_zh or '完好'}")
        record_verification(session, results)
        if whole.whole:
            return Outcome(RunState.SUCCEEDED, f"审计链完好：校验{whole.links}条")
        everyone = list(session.scalars(select(Province.id)))
        for result in (r for r in results if not r.whole):
            for province_id in [result.province_id] if result.province_id is not None else everyone:
                head = last_verification(session, province_id)
                if head is None or head.told_event_id == result.broken_event_id:
                    continue
                tell_audit_break(session, head, event_id=result.broken_event_id, problem_zh=result.problem_zh or "",
                                 problem_en=result.problem_en or "", now=context.started())  # fmt: skip
                head.told_event_id = result.broken_event_id
        return Outcome(RunState.SUCCEEDED, f"审计链发现问题：{whole.problem_zh}（已通知省级管理员）")


def _monthly(context: JobContext) -> Outcome:
    from jobs.bulletins import monthly_bulletin

    return monthly_bulletin(context)


def _quarterly(context: JobContext) -> Outcome:
    from jobs.bulletins import quarterly_bulletin

    return quarterly_bulletin(context)


def _reminders(context: JobContext) -> Outcome:
    from jobs.reminders import reminders

    return reminders(context)


def _monthly_correction(context: JobContext) -> Outcome:
    from jobs.bulletins import bulletin_correction

    return bulletin_correction(context, Frequency.MONTHLY)


def _quarterly_correction(context: JobContext) -> Outcome:
    from jobs.bulletins import bulletin_correction

    return bulletin_correction(context, Frequency.QUARTERLY)


def _never(_local: dt.datetime) -> str:
    raise AssertionError("a correction is never scheduled")


JOBS = (
    JobSpec("flag_scan", N_("夜间风险核查"), "30 1 * * *", day_period, flag_scan),
    JobSpec("reminders", N_("工作日提醒"), "30 8 * * *", day_period, _reminders),
    JobSpec("audit_verify", N_("审计链校验"), "30 4 * * *", day_period, audit_verify),
    # Updates are due on the 5th (tracker.core.periods.Reporting): the bulletin follows on the 8th. An
    # earlier run (by hand, or another schedule) waits for the due day unless forced (jobs.bulletins).
    JobSpec("monthly_bulletin", N_("月度调度通报"), "0 9 8 * *", previous_month, _monthly, kind="month"),
    JobSpec("quarterly_bulletin", N_("季度调度通报"), "0 10 8 1,4,7,10 *", previous_quarter, _quarterly, kind="quarter"),
)  # fmt: skip
# Corrections of an issued bulletin: never scheduled and not in the run-now list; asked for by the
# provincial administrator with a reason (jobs.control.request_correction), one period "2026-11#1"
# per correction, and run through the same claim, so each is built and sent once.
CORRECTIONS = (
    JobSpec("monthly_bulletin_correction", N_("月度调度通报更正"), "", _never, _monthly_correction, kind="correction"),
    JobSpec("quarterly_bulletin_correction", N_("季度调度通报更正"), "", _never, _quarterly_correction,
            kind="correction"),
)  # fmt: skip
JOB_BY_ID = {job.id: job for job in (*JOBS, *CORRECTIONS)}
RUNNABLE = {job.id: job for job in JOBS}  # what "run now" (page, CLI) may ask for
BULLETIN_JOBS = {"monthly_bulletin": Frequency.MONTHLY, "quarterly_bulletin": Frequency.QUARTERLY}
