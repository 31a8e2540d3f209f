"""The monthly and quarterly dispatch bulletins (调度通报): build every cut, archive it, queue it to
its recipients, and send.

One run stands for one period (claimed in ``job_runs``), so a bulletin is numbered, archived and
queued once. Within the run the order is: build all files (reading only); then, in one transaction,
archive them and queue one message per recipient, each keyed by job, period, cut and recipient; then
deliver those messages. A run that fails part-way and is retried finds its archive and its queued
messages already there and adds nothing; a message that could not be sent is retried by the
delivery loop, and one that failed for good is reported in the next bulletin run.

A bulletin waits for its period's updates: a run on or before their due day (tracker.core.periods.due_date)
builds nothing and ends ``deferred`` with the reason and the completeness it would carry, so the
period is not used up and the next run after the due day builds it. The provincial administrator
may force an earlier one (jobs.control, audited). An issued bulletin is corrected by a run of its own
(``bulletin_correction``, period "2026-11#1"): rebuilt from today's data under the same number as
第N期（更正）, archived beside the original and sent once to the recipients the original was sent to,
under keys of its own, marked as a correction and naming the original.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.context import SCHEDULER_ACTOR, JobContext
from reports.bulletin import bulletin_xlsx, file_name, summary_text
from reports.bulletin_pdf import leadership_pdf
from tracker.access.permissions import system_reader
from tracker.core.config import Settings
from tracker.core.db import transaction
from tracker.core.messages import Day, InLocale, Label, Lines, Listed, Message, Shown
from tracker.core.periods import Frequency, Period, due_date, parse_period
from tracker.delivery.bulletin_archive import archive_bulletin, issue_number, issued
from tracker.delivery.job_runs import Outcome
from tracker.delivery.notices import tell_new_bulletins
from tracker.delivery.outbox import XLSX, Delivery, deliver, enqueue_to, failed_since, smtp_send, webhook_post
from tracker.delivery.recipients import recipients_for
from tracker.models import Audience, Channel, City, JobRequest, JobRun, OutboxMessage, Recipient, RunState
from tracker.monitoring.bulletin_data import BulletinData, Cut, CutKind, bulletin_data, only_province
from tracker.progress.completeness import completeness
from tracker.progress.owed import owing_pilots

PDF = "application/pdf"
FOOTER = Message("本消息由碳足迹试点监管平台按计划自动发送；通报文件可在平台“调度通报”页下载。")


@dataclass(frozen=True)
class Built:
    """One cut of the bulletin, built and ready to archive."""

    cut: Cut
    audience: Audience
    city_id: int | None
    data: BulletinData
    file_name: str
    content_type: str
    content: bytes


def monthly_bulletin(context: JobContext) -> Outcome:
    return bulletin_run(context, Frequency.MONTHLY)


def quarterly_bulletin(context: JobContext) -> Outcome:
    return bulletin_run(context, Frequency.QUARTERLY)


@dataclass(frozen=True)
class Readiness:
    """Whether a period's updates are due yet, and the completeness a bulletin built now would carry."""

    period: Period
    due: dt.date  # the last day updates count as on time
    today: dt.date
    expected: int
    submitted: int

    @property
    def is_due(self) -> bool:
        """Past the due day: every update that could be on time is in (or late). On the due day
        itself updates still arrive on time, so a bulletin built then would miss them."""
        return self.today > self.due

    @property
    def percent(self) -> Decimal | None:
        if not self.expected:
            return None
        return (Decimal(100) * self.submitted / self.expected).quantize(Decimal("0.1"))

    def completeness(self) -> Message:
        """3/5（60.0%）: the updates in against those owed."""
        percent = "—" if self.percent is None else str(self.percent)
        return Message("{submitted}/{expected}（{percent}%）", submitted=self.submitted, expected=self.expected,
                       percent=percent)  # fmt: skip

    def not_due(self) -> Message:
        return Message("{period}调度通报：更新截止{due}，尚未到期，未生成（现完整率{completeness}）；到期后的定时运行照常生成，"
                       "如确需提前印发，请省级管理员在“定时任务”页强制运行", period=self.period.label, due=Day(self.due),
                       completeness=self.completeness())  # fmt: skip


def readiness(session: Session, settings: Settings, period: Period, today: dt.date) -> Readiness:
    """The due day of ``period``'s updates and how many are in (the province as a whole)."""
    province = only_province(session)
    lines = completeness(session, system_reader(province.id), period, by_city=False)
    line = next((c for c in lines if c.city_id is None), None)
    return Readiness(period, due_date(period, settings.reporting), today, line.expected if line else 0,
                     line.submitted if line else 0)  # fmt: skip


def bulletin_run(context: JobContext, frequency: Frequency) -> Outcome:
    period = parse_period(context.period, frequency)
    kind = frequency.value
    job = f"{kind}_bulletin"
    issued_on = context.today()
    with context.factory() as session:
        ready = readiness(session, context.settings, period, issued_on)
        # A retry of a forced run that archived before it failed (taken over, or run again) finishes
        # what it started: its bulletin exists already.
        started = bool(issued(session, kind, period.key))
        if not ready.is_due and not context.force and not context.dry_run and not started:
            return Outcome(RunState.DEFERRED, ready.not_due())
        province = only_province(session)
        pilots = owing_pilots(session, system_reader(province.id), period)
        if not pilots:
            return Outcome(
                RunState.SKIPPED, Message("{period}没有应报送进展的试点，未生成通报", period=period.label)
            )
        number = issue_number(session, province.id, kind, period.key)
        city_ids = sorted({p.city_id for p in pilots})
        cities = list(session.scalars(select(City).where(City.id.in_(city_ids)).order_by(City.code)))
        built = _build(
            session, context, period_cuts(cities), period=period, number=number, issued_on=issued_on
        )
        since = _previous_run_start(session, job, context.period)
        failed = failed_since(session, since)
        recipients = _recipients(session, province.id)
    if context.dry_run:
        return Outcome(
            RunState.SUCCEEDED, _summary(period.label, number, built, recipients, None, failed, dry=True)
        )
    run_id = context.run_id
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        _archive(session, context, province.id, kind, period, built, number=number, issued_on=issued_on)
        tell_new_bulletins(session, province.id, kind, period.key, now=context.started())  # in-app notices
        queued = _queue(session, job, period.key, built, recipients, failed, run_id, context.started())
    # A forced run's record says so, and with what completeness.
    forced: Message | str = (
        ""
        if ready.is_due
        else Message("强制提前生成（更新截止{due}，完整率{completeness}）：", due=Day(ready.due),
                     completeness=ready.completeness())
    )  # fmt: skip
    if not any(recipients.values()):
        return Outcome(RunState.SKIPPED, Message("{forced}已归档{n}份通报，但没有启用的发送对象，未发送（请在“发送对象”页添加）",
                                                 forced=forced, n=len(built)))  # fmt: skip
    result = deliver(context.factory, now=context.started(), email=partial(smtp_send, context.settings.mail),
                     webhook=webhook_post, ids=queued)  # fmt: skip
    summary = _summary(period.label, number, built, recipients, result, failed)
    return Outcome(RunState.SUCCEEDED, Message("{forced}{summary}", forced=forced, summary=summary))


def period_cuts(cities: list[City]) -> list[tuple[Cut, Audience, int | None]]:
    """Province-wide, one per city that has pilots, and the leadership summary."""
    cuts: list[tuple[Cut, Audience, int | None]] = [(Cut.province(), Audience.PROVINCE, None)]
    cuts += [(Cut.city(c.code), Audience.CITY, c.id) for c in cities]
    return [*cuts, (Cut.leadership(), Audience.LEADERSHIP, None)]


def _build(session: Session, context: JobContext, cuts: list[tuple[Cut, Audience, int | None]], *, period: Period,
           number: int, issued_on: dt.date, correction: int = 0) -> list[Built]:  # fmt: skip
    """Every cut's file; progress is measured on the period's last day."""
    built = []
    for cut, audience, city_id in cuts:
        data = bulletin_data(session, period=period, cut=cut, on=period.end, number=number, issued_on=issued_on,
                             settings=context.settings)  # fmt: skip
        if correction:
            data = dataclasses.replace(data, correction=correction)
        if cut.kind is CutKind.LEADERSHIP:
            content, content_type, name = (
                leadership_pdf(data),
                PDF,
                file_name(data).removesuffix(".xlsx") + ".pdf",
            )
        else:
            content, content_type, name = bulletin_xlsx(data), XLSX, file_name(data)
        built.append(Built(cut, audience, city_id, data, name, content_type, content))
    return built


def _archive(session: Session, context: JobContext, province_id: int, kind: str, period: Period, built: list[Built],
             *, number: int, issued_on: dt.date, correction: int = 0, reason: str | None = None) -> None:  # fmt: skip
    """Keep every built cut in the archive under the run (a cut an earlier attempt kept stays as it was);
    a correction is archived beside the original with its number and reason."""
    for item in built:
        archive_bulletin(session, province_id=province_id, kind=kind, period=period.key, cut=item.cut.key,
                         city_id=item.city_id, number=number, issued_on=issued_on, title=item.data.title,
                         summary=summary_text(item.data), file_name=item.file_name, content_type=item.content_type,
                         content=item.content, run_id=context.run_id, now=context.started(), correction=correction,
                         reason=reason)  # fmt: skip


def _recipients(session: Session, province_id: int) -> dict[Audience, list[Recipient]]:
    found = {audience: recipients_for(session, province_id, audience) for audience in Audience}
    for rows in found.values():
        for row in rows:
            session.expunge(row)
    return found


def _previous_run_start(session: Session, job: str, period: str) -> dt.datetime | None:
    return session.scalar(
        select(JobRun.started_at).where(JobRun.job == job, JobRun.period != period)
        .order_by(JobRun.started_at.desc()).limit(1)
    )  # fmt: skip


def _queue(session: Session, job: str, period: str, built: list[Built], recipients: dict[Audience, list[Recipient]],
           failed: list[OutboxMessage], run_id: int | None, now: dt.datetime) -> list[int]:  # fmt: skip
    """One message per recipient of each cut, keyed so a rerun queues nothing again."""
    queued = []
    failures = _failure_note(failed)
    for item in built:
        summary = InLocale(partial(summary_text, item.data))
        for recipient in recipients[item.audience]:
            if item.audience is Audience.CITY and recipient.city_id != item.city_id:
                continue
            note = failures if item.audience is Audience.PROVINCE else None
            message = enqueue_to(session, recipient, key=f"{job}/{period}/{item.cut.key}/r{recipient.id}",
                                 subject=item.data.title, body=_body(recipient, summary, note),
                                 now=now, run_id=run_id, attachment_name=item.file_name, attachment=item.content)  # fmt: skip
            if message is not None:
                queued.append(message.id)
    return queued


def _body(recipient: Recipient, summary: Shown, note: Shown | None) -> Lines:
    """The bulletin's summary (and a note), in the recipient's language when shown; an e-mail ends with
    the footer, a group robot's message does not."""
    if recipient.channel is not Channel.EMAIL:
        return Lines(summary, note)
    return Lines(summary, note, "", FOOTER)


def _failure_note(failed: list[OutboxMessage]) -> Message | None:
    if not failed:
        return None
    names = Listed(sorted({m.recipient for m in failed})[:5])
    return Message("提示：上次通报以来有{n}条消息经多次重试仍未送达（{names}等），详见平台“定时任务”页。", n=len(failed),
                   names=names)  # fmt: skip


def _summary(label: Label, number: int, built: list[Built], recipients: dict[Audience, list[Recipient]],
             result: Delivery | None, failed: list[OutboxMessage], dry: bool = False) -> Message:  # fmt: skip
    cities = sum(1 for b in built if b.cut.kind is CutKind.CITY)
    what = Message("{period}调度通报第{number}期：全省、{cities}个市和领导摘要共{n}份", period=label, number=number,
                   cities=cities, n=len(built))  # fmt: skip
    if dry:
        count = sum(len(rows) for rows in recipients.values())
        return Message("{what}（演算，未归档、未发送），发送对象{count}个", what=what, count=count)
    assert result is not None
    return Message("{what}已归档；{sent}{failed}", what=what, sent=delivered(result),
                   failed=Message("；上次以来{n}条消息投递失败", n=len(failed)) if failed else "")  # fmt: skip


def delivered(result: Delivery, *, sent: Message | None = None) -> Message:
    """发送3条，1条发送失败将重试，1条失败: what one delivery did (``sent`` names whom it sent to)."""
    retrying, gave_up = len(result.retrying), len(result.failed)
    return Message("发送{whom}{sent}条{retrying}{gave_up}", whom=sent or "", sent=len(result.sent),
                   retrying=Message("，{n}条发送失败将重试", n=retrying) if retrying else "",
                   gave_up=Message("，{n}条失败", n=gave_up) if gave_up else "")  # fmt: skip


# --- corrections -----------------------------------------------------------------------------------


def correction_key(period: str, correction: int) -> str:
    """The run's period of a correction: 2026-11#1 is the first correction of 2026-11."""
    return f"{period}#{correction}"


def correction_label(correction: int) -> str:
    return "更正" if correction == 1 else f"更正{correction}"


def correction_name(correction: int) -> Message:
    """更正, 更正2 … in the reader's language (correction, correction 2 …)."""
    return Message("更正") if correction == 1 else Message("更正{n}", n=correction)


def monthly_correction(context: JobContext) -> Outcome:
    return bulletin_correction(context, Frequency.MONTHLY)


def quarterly_correction(context: JobContext) -> Outcome:
    return bulletin_correction(context, Frequency.QUARTERLY)


def bulletin_correction(context: JobContext, frequency: Frequency) -> Outcome:
    """Correct an issued bulletin: rebuild every cut from today's data under its number, archive the
    files beside the original (which stays), and send each to whom the original cut was sent, once
    (keys of the correction's own run). The reason is the administrator's, from the request."""
    key, _sep, count = context.period.partition("#")
    period, correction = parse_period(key, frequency), int(count)
    kind = frequency.value
    job, own_job = f"{kind}_bulletin", f"{kind}_bulletin_correction"
    issued_on = context.today()
    with context.factory() as session:
        province = only_province(session)
        originals = issued(session, kind, period.key)
        if not originals:
            return Outcome(
                RunState.SKIPPED, Message("{period}调度通报尚未印发，没有可更正的通报", period=period.label)
            )
        number, original_day = originals[0].number, originals[0].issued_on
        titles = {b.cut: b.title for b in originals}  # each cut's message names that cut's original
        reason = correction_reason(session, own_job, context.period)
        pilots = owing_pilots(session, system_reader(province.id), period)
        cities = list(session.scalars(select(City).where(City.id.in_(sorted({p.city_id for p in pilots})))
                                      .order_by(City.code)))  # fmt: skip
        built = _build(session, context, period_cuts(cities), period=period, number=number, issued_on=issued_on,
                       correction=correction)  # fmt: skip
        sent_to = _original_recipients(session, job, period.key)
    label = Message("{period}调度通报第{number}期（{correction}）", period=period.label, number=number,
                    correction=correction_name(correction))  # fmt: skip
    if context.dry_run:
        return Outcome(
            RunState.SUCCEEDED, Message("{label}：共{n}份（演算，未归档、未发送）", label=label, n=len(built))
        )
    run_id = context.run_id

    def note(cut: str) -> Message:
        original = (
            Message("《{title}》", title=titles[cut])
            if cut in titles
            else Message("第{number}期通报", number=number)
        )
        return Message("更正说明：本通报更正{day}印发的{original}，请以本更正为准；原通报仍可在平台“调度通报”页下载。\n"
                       "更正原因：{reason}", day=Day(original_day), original=original, reason=reason)  # fmt: skip

    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        _archive(session, context, province.id, kind, period, built, number=number, issued_on=issued_on,
                 correction=correction, reason=reason)  # fmt: skip
        queued, skipped = _queue_correction(session, own_job, context.period, built, sent_to, note, run_id,
                                            context.started())  # fmt: skip
    text = Message("{label}已归档{n}份，更正原因：{reason}{skipped}", label=label, n=len(built), reason=reason,
                   skipped=Message("；原发送对象中{n}个已停用，未发送", n=skipped) if skipped else "")  # fmt: skip
    if not queued:  # the original went to no one, or an earlier attempt of this run queued them all
        return Outcome(RunState.SUCCEEDED, Message("{text}；原通报没有发送对象，未发送", text=text) if not sent_to
                       else Message("{text}；消息已由前次运行排队，由投递循环发送", text=text))  # fmt: skip
    result = deliver(context.factory, now=context.started(), email=partial(smtp_send, context.settings.mail),
                     webhook=webhook_post, ids=queued)  # fmt: skip
    whom = Message("原通报的对象")
    return Outcome(
        RunState.SUCCEEDED, Message("{text}；{sent}", text=text, sent=delivered(result, sent=whom))
    )


def correction_reason(session: Session, job: str, period: str) -> str:
    """The reason given in the (latest) request for this correction."""
    found = session.scalar(select(JobRequest.reason).where(JobRequest.job == job, JobRequest.period == period)
                           .order_by(JobRequest.id.desc()).limit(1))  # fmt: skip
    return found or "（未填写）"


def _original_recipients(session: Session, job: str, period: str) -> dict[str, list[int]]:
    """Whom each cut of the original bulletin was queued to (by its outbox keys job/period/cut/r<id>)."""
    prefix = f"{job}/{period}/"
    found: dict[str, list[int]] = {}
    for key in session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.startswith(prefix, autoescape=True))
                               .order_by(OutboxMessage.id)):  # fmt: skip
        cut, _sep, who = key.removeprefix(prefix).rpartition("/r")
        if who.isdigit():
            found.setdefault(cut, []).append(int(who))
    return found


def _queue_correction(session: Session, job: str, period: str, built: list[Built], sent_to: dict[str, list[int]],
                      note: Callable[[str], Message], run_id: int | None, now: dt.datetime) -> tuple[list[int], int]:  # fmt: skip
    """One message per recipient of the original cut, keyed by the correction's own run; switched-off
    recipients are left out (how many is returned too)."""
    queued, skipped = [], 0
    for item in built:
        for recipient_id in sent_to.get(item.cut.key, []):
            recipient = session.get(Recipient, recipient_id)
            if recipient is None or not recipient.active:
                skipped += 1
                continue
            summary = Lines(note(item.cut.key), "", InLocale(partial(summary_text, item.data)))
            message = enqueue_to(session, recipient, key=f"{job}/{period}/{item.cut.key}/r{recipient.id}",
                                 subject=Message("【更正】{title}", title=item.data.title),
                                 body=_body(recipient, summary, None), now=now, run_id=run_id,
                                 attachment_name=item.file_name, attachment=item.content)  # fmt: skip
            if message is not None:
                queued.append(message.id)
    return queued, skipped
