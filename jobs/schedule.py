"""Every scheduled job, declared in one place (the registry): its id, Chinese name, default schedule
(cron, in the configured time zone; ``TRACKER_SCHEDULE_<ID>`` replaces it), which period a run stands
for, and the work. A run is claimed per job and period (tracker.delivery.job_runs), so nothing is done
twice.

Imports point one way: the job modules (the work) import jobs.context (and the flag scan the flag
notices), never this registry; the registry imports them; the runner (jobs.runner), the dashboard's
side (jobs.control) and the scheduler process (jobs.scheduler) import the registry
(tests/core/test_layers.py keeps it so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from apscheduler.triggers.cron import CronTrigger

from jobs.audit_verify import audit_verify
from jobs.bulletins import monthly_bulletin, monthly_correction, quarterly_bulletin, quarterly_correction
from jobs.context import JobContext
from jobs.flag_scan import flag_scan
from jobs.reminders import reminders
from tracker.core.config import SCHEDULE_PREFIX, Settings, SettingsError
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_
from tracker.core.messages import Message
from tracker.core.periods import Frequency, parse_period, period_of, previous_period
from tracker.delivery.job_runs import Outcome
from tracker.lifecycle.deadlines import parse_chinese_or_iso_date


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
            raise TrackerError(Message("更正期别格式不正确：{text}", text=text))
        return f"{period}#{int(number)}"
    if kind == "month":
        return parse_period(text, Frequency.MONTHLY).key
    if kind == "quarter":
        return parse_period(text, Frequency.QUARTERLY).key
    try:
        return parse_chinese_or_iso_date(text).isoformat()
    except TrackerError:
        raise TrackerError(Message("日期格式不正确：{text}（应为 2026-11-24 或 2026年11月24日）", text=text)) from None  # fmt: skip


def _never(_local: dt.datetime) -> str:
    raise AssertionError("a correction is never scheduled")


JOBS = (
    JobSpec("flag_scan", N_("夜间风险核查"), "30 1 * * *", day_period, flag_scan),
    JobSpec("reminders", N_("工作日提醒"), "30 8 * * *", day_period, reminders),
    JobSpec("audit_verify", N_("审计链校验"), "30 4 * * *", day_period, audit_verify),
    # Updates are due on the 5th (tracker.core.periods.Reporting): the bulletin follows on the 8th. An
    # earlier run (by hand, or another schedule) waits for the due day unless forced (jobs.bulletins).
    JobSpec("monthly_bulletin", N_("月度调度通报"), "0 9 8 * *", previous_month, monthly_bulletin, kind="month"),
    JobSpec("quarterly_bulletin", N_("季度调度通报"), "0 10 8 1,4,7,10 *", previous_quarter, quarterly_bulletin, kind="quarter"),
)  # fmt: skip
# Corrections of an issued bulletin: never scheduled and not in the run-now list; asked for by the
# provincial administrator with a reason (jobs.control.request_correction), one period "2026-11#1"
# per correction, and run through the same claim, so each is built and sent once.
CORRECTIONS = (
    JobSpec("monthly_bulletin_correction", N_("月度调度通报更正"), "", _never, monthly_correction, kind="correction"),
    JobSpec("quarterly_bulletin_correction", N_("季度调度通报更正"), "", _never, quarterly_correction,
            kind="correction"),
)  # fmt: skip
JOB_BY_ID = {job.id: job for job in (*JOBS, *CORRECTIONS)}
RUNNABLE = {job.id: job for job in JOBS}  # what "run now" (page, CLI) may ask for
BULLETIN_JOBS = {"monthly_bulletin": Frequency.MONTHLY, "quarterly_bulletin": Frequency.QUARTERLY}
