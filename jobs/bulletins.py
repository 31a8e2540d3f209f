"""The monthly and quarterly dispatch bulletins (调度通报): build every cut, archive it, queue it to
its recipients, and send.

One run stands for one period (claimed in ``job_runs``), so a bulletin is numbered, archived and
queued once. Within the run the order is: build all files (reading only); then, in one transaction,
archive them and queue one message per recipient, each keyed by job, period, cut and recipient; then
deliver those messages. A run that fails part-way and is retried finds its archive and its queued
messages already there and adds nothing; a message that could not be sent is retried by the
delivery loop, and one that failed for good is reported in the next bulletin run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.schedule import SCHEDULER_ACTOR, JobContext
from reports.bulletin import bulletin_xlsx, file_name, summary_text
from reports.bulletin_pdf import leadership_pdf
from tracker.bulletin_archive import archive_bulletin, issue_number
from tracker.bulletin_data import BulletinData, Cut, CutKind, bulletin_data, only_province
from tracker.db import transaction
from tracker.job_runs import Outcome
from tracker.models import Audience, Channel, City, JobRun, OutboxMessage, Recipient, RunState
from tracker.notices import tell_new_bulletins
from tracker.outbox import XLSX, Delivery, deliver, enqueue, failed_since, smtp_send, webhook_post
from tracker.periods import Frequency, Period, parse_period
from tracker.permissions import system_reader
from tracker.recipients import recipients_for
from tracker.updates import owing_pilots

PDF = "application/pdf"
FOOTER = "本消息由碳足迹试点监管平台按计划自动发送；通报文件可在平台“调度通报”页下载。"


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


def bulletin_run(context: JobContext, frequency: Frequency) -> Outcome:
    period = parse_period(context.period, frequency)
    kind = frequency.value
    job = f"{kind}_bulletin"
    issued_on = context.today()
    with context.factory() as session:
        province = only_province(session)
        pilots = owing_pilots(session, system_reader(province.id), period)
        if not pilots:
            return Outcome(RunState.SKIPPED, f"{period.label_zh}没有应报送进展的试点，未生成通报")
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
            RunState.SUCCEEDED, _summary(period.label_zh, number, built, recipients, None, failed, dry=True)
        )
    run_id = context.claim.run_id if context.claim else None
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        for item in built:
            archive_bulletin(session, province_id=province.id, kind=kind, period=period.key, cut=item.cut.key,
                             city_id=item.city_id, number=number, issued_on=issued_on, title=item.data.title,
                             summary=summary_text(item.data), file_name=item.file_name,
                             content_type=item.content_type, content=item.content, run_id=run_id,
                             now=context.started())  # fmt: skip
        tell_new_bulletins(session, province.id, kind, period.key, now=context.started())  # in-app notices
        queued = _queue(session, job, period.key, built, recipients, failed, run_id, context.started())
    if not any(recipients.values()):
        return Outcome(RunState.SKIPPED, f"已归档{len(built)}份通报，但没有启用的发送对象，未发送"
                                         "（请在“发送对象”页添加）")  # fmt: skip
    result = deliver(context.factory, now=context.started(), email=partial(smtp_send, context.settings.mail),
                     webhook=webhook_post, ids=queued)  # fmt: skip
    return Outcome(RunState.SUCCEEDED, _summary(period.label_zh, number, built, recipients, result, failed))


def period_cuts(cities: list[City]) -> list[tuple[Cut, Audience, int | None]]:
    """Province-wide, one per city that has pilots, and the leadership summary."""
    return ([(Cut.province(), Audience.PROVINCE, None)]
            + [(Cut.city(c.code), Audience.CITY, c.id) for c in cities]
            + [(Cut.leadership(), Audience.LEADERSHIP, None)])  # fmt: skip


def _build(session: Session, context: JobContext, cuts: list[tuple[Cut, Audience, int | None]], *, period: Period,
           number: int, issued_on: dt.date) -> list[Built]:  # fmt: skip
    """Every cut's file; progress is measured on the period's last day."""
    built = []
    for cut, audience, city_id in cuts:
        data = bulletin_data(session, period=period, cut=cut, on=period.end, number=number, issued_on=issued_on,
                             settings=context.settings)  # fmt: skip
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
        for recipient in recipients[item.audience]:
            if item.audience is Audience.CITY and recipient.city_id != item.city_id:
                continue
            body = summary_text(item.data)
            if item.audience is Audience.PROVINCE and failures:
                body += "\n" + failures
            email = recipient.channel is Channel.EMAIL
            message = enqueue(session, key=f"{job}/{period}/{item.cut.key}/r{recipient.id}",
                              channel=recipient.channel.value, recipient=recipient.address,
                              subject=item.data.title, body=f"{body}\n\n{FOOTER}" if email else body, now=now,
                              run_id=run_id, attachment_name=item.file_name if email else None,
                              attachment=item.content if email else None)  # fmt: skip
            if message is not None:
                queued.append(message.id)
    return queued


def _failure_note(failed: list[OutboxMessage]) -> str:
    if not failed:
        return ""
    names = "、".join(sorted({m.recipient for m in failed})[:5])
    return f"提示：上次通报以来有{len(failed)}条消息经多次重试仍未送达（{names}等），详见平台“定时任务”页。"


def _summary(label: str, number: int, built: list[Built], recipients: dict[Audience, list[Recipient]],
             result: Delivery | None, failed: list[OutboxMessage], dry: bool = False) -> str:  # fmt: skip
    cities = sum(1 for b in built if b.cut.kind is CutKind.CITY)
    text = f"{label}调度通报第{number}期：全省、{cities}个市和领导摘要共{len(built)}份"
    count = sum(len(rows) for rows in recipients.values())
    if dry:
        return f"{text}（演算，未归档、未发送），发送对象{count}个"
    assert result is not None
    sent, retrying, gave_up = len(result.sent), len(result.retrying), len(result.failed)
    text += f"已归档；发送{sent}条"
    if retrying:
        text += f"，{retrying}条发送失败将重试"
    if gave_up:
        text += f"，{gave_up}条失败"
    if failed:
        text += f"；上次以来{len(failed)}条消息投递失败"
    return text
