"""Reminders to the city bureaus (and the province), sent on working days only.

One message per recipient per working day, holding whatever is due (nothing is sent when nothing
is): progress updates due within three working days or overdue; the batch deadline 7, 3 or 1
working days ahead; milestones past their due date and not met. Days are counted by the official
holiday calendar (tracker.core.workdays), so the National Day and Spring Festival weeks are not counted
and the swapped weekend working days are. A milestone that is met or moved drops out of the next
day's reminder by itself, since each day's reminder is worked out from the data of that day; the
run is claimed per day and every message is keyed by day and recipient, so none is sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.context import SCHEDULER_ACTOR, JobContext
from tracker.access.permissions import system_reader, visible_pilots
from tracker.core.db import transaction
from tracker.core.messages import Day, Label, Lines, Listed, Message, Shown
from tracker.core.periods import Period, due_date, period_of, previous_period
from tracker.core.workdays import calendar_known, is_workday, working_days_until
from tracker.delivery.job_runs import Outcome
from tracker.delivery.outbox import deliver, enqueue, smtp_send, webhook_post
from tracker.delivery.recipients import recipients_for
from tracker.models import (
    Application,
    ApplicationStatus,
    Audience,
    Batch,
    BatchDeadline,
    City,
    Milestone,
    Pilot,
    PilotStatus,
    RunState,
    UpdateStatus,
)
from tracker.monitoring.bulletin_data import only_province
from tracker.progress.expected import overdue_milestones
from tracker.progress.owed import owing_pilots
from tracker.progress.updates import updates_for

DUE_SOON = 3  # working days before an update's due date from which cities are reminded
BATCH_DAYS = (7, 3, 1)  # working days before a batch deadline on which it is announced
LISTED = 30  # items named in one message; the rest are counted
WAITING_FOR_CITY = (ApplicationStatus.SUBMITTED,)  # applications the city bureau still has to review
RUNNING = (PilotStatus.IN_IMPLEMENTATION, PilotStatus.EXTENDED)  # pilots whose milestones are chased


@dataclass
class Digest:
    """What one city (or the province: city None) is reminded of today."""

    updates: list[Message] = field(default_factory=list)
    batches: list[Message] = field(default_factory=list)
    milestones: list[Message] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.updates or self.batches or self.milestones)

    def text(self, scope: Shown, today: dt.date) -> Lines:
        """The whole reminder, shown in its recipient's language (names and titles as entered)."""
        parts: list[Shown | str] = [
            Message("{scope}产品碳足迹管理试点工作提醒（{day}）", scope=scope, day=Day(today))
        ]
        for title, lines in ((Message("一、进展报送"), self.updates), (Message("二、申报批次截止"), self.batches),
                             (Message("三、逾期未完成的里程碑"), self.milestones)):  # fmt: skip
            if lines:
                more = [Message("……另有{n}项", n=len(lines) - LISTED)] if len(lines) > LISTED else []
                parts += [title, *(Message("  {line}", line=line) for line in lines[:LISTED] + more)]
        if not calendar_known(today):
            parts.append(Message("（注：本年度法定节假日安排尚未载入，工作日按周一至周五计算。）"))
        parts.append(Message("本提醒由碳足迹试点监管平台在工作日自动发送，请登录平台处理。"))
        return Lines(*parts)


def reminders(context: JobContext) -> Outcome:
    today = dt.date.fromisoformat(context.period)
    if not is_workday(today):
        return Outcome(
            RunState.SKIPPED, Message("{day}不是工作日（周末或法定节假日），不发提醒", day=Day(today))
        )
    with context.factory() as session:
        province = only_province(session)
        cities = {c.id: c for c in session.scalars(select(City).where(City.province_id == province.id))}
        digests = work_out(session, province.id, today, context)
        recipients = [(r.id, r.audience, r.city_id, r.channel.value, r.address, r.locale)
                      for audience in (Audience.CITY, Audience.PROVINCE)
                      for r in recipients_for(session, province.id, audience)]  # fmt: skip
    if not any(digests.values()):
        return Outcome(RunState.SKIPPED, Message("{day}没有需要提醒的事项", day=Day(today)))
    messages = []
    for recipient_id, audience, city_id, channel, address, locale in recipients:
        key = None if audience is Audience.PROVINCE else city_id
        digest = digests.get(key)
        if not digest:
            continue
        scope = Message("全省") if key is None else Label(cities[key].name_zh, cities[key].name_en)
        title = Message("{scope}试点工作提醒（{day}）", scope=scope, day=Day(today))
        messages.append((f"reminders/{today.isoformat()}/{key or 'province'}/r{recipient_id}", channel, address,
                         title.text(locale), digest.text(scope, today).text(locale)))  # fmt: skip
    if not messages:
        waiting = [(Message("全省") if k is None else Label(cities[k].short_zh, cities[k].name_en))
                   for k, d in digests.items() if d]  # fmt: skip
        return Outcome(
            RunState.SKIPPED,
            Message("有待提醒事项（{whom}），但没有对应的发送对象，未发送", whom=Listed(waiting)),
        )
    if context.dry_run:
        return Outcome(RunState.SUCCEEDED, Message("演算：将发送提醒{n}条，未发送", n=len(messages)))
    queued = []
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        for outbox_key, channel, address, subject, body in messages:
            message = enqueue(session, key=outbox_key, channel=channel, recipient=address, subject=subject, body=body,
                              now=context.started(), run_id=context.run_id)  # fmt: skip
            if message is not None:
                queued.append(message.id)
    result = deliver(context.factory, now=context.started(), email=partial(smtp_send, context.settings.mail),
                     webhook=webhook_post, ids=queued)  # fmt: skip
    cities_reminded = sum(1 for k, d in digests.items() if d and k is not None)
    retrying = Message("，{n}条将重试", n=len(result.retrying)) if result.retrying else ""
    return Outcome(RunState.SUCCEEDED, Message("提醒{cities}个市；排队{queued}条，已发送{sent}条{retrying}", cities=cities_reminded,
                                               queued=len(queued), sent=len(result.sent), retrying=retrying))  # fmt: skip


def work_out(
    session: Session, province_id: int, today: dt.date, context: JobContext
) -> dict[int | None, Digest]:
    """Each city's digest (key: city id) and the province's (key None), from today's data."""
    digests: dict[int | None, Digest] = defaultdict(Digest)
    reader = system_reader(province_id)
    reporting = context.settings.reporting
    current = period_of(today, reporting.frequency)
    for period in (previous_period(current), current):
        _updates(session, reader, period, due_date(period, reporting), today, digests)
    _batches(session, province_id, today, digests)
    _milestones(session, reader, today, digests)
    return digests


def _updates(session: Session, reader: object, period: Period, due: dt.date, today: dt.date,
             digests: dict[int | None, Digest]) -> None:  # fmt: skip
    days = working_days_until(today, due)
    if days > DUE_SOON:
        return
    owing = owing_pilots(session, reader, period)  # type: ignore[arg-type]
    updates = updates_for(session, [p.id for p in owing], period)
    missing: dict[int, list[Pilot]] = defaultdict(list)
    for pilot in owing:
        update = updates.get(pilot.id)
        if update is None or update.status not in (UpdateStatus.SUBMITTED, UpdateStatus.ACCEPTED):
            missing[pilot.city_id].append(pilot)
    on = Day(due)
    when = (Message("今天（{day}）截止", day=on) if due == today
            else Message("于{day}截止，此前已无工作日", day=on) if days == 0 and due > today
            else Message("还有{n}个工作日截止（{day}）", n=days, day=on) if days > 0
            else Message("已于{day}截止，逾期{n}个工作日", day=on, n=-days))  # fmt: skip
    for city_id, pilots in missing.items():
        digests[city_id].updates.append(Message("{period}进展{when}，尚有{n}个试点未报送：{names}", period=period.label,
                                                when=when, n=len(pilots), names=Listed(p.name for p in pilots[:LISTED])))  # fmt: skip
    if days < 0 and missing:
        total = sum(len(p) for p in missing.values())
        digests[None].updates.append(Message("{period}进展已逾期{days}个工作日，{cities}个市尚有{n}个试点未报送",
                                             period=period.label, days=-days, cities=len(missing), n=total))  # fmt: skip


def _batches(session: Session, province_id: int, today: dt.date, digests: dict[int | None, Digest]) -> None:
    for batch in session.scalars(
        select(Batch).where(Batch.province_id == province_id, Batch.provincial_deadline >= today)
    ):
        days = working_days_until(today, batch.provincial_deadline)
        if days in BATCH_DAYS:
            digests[None].batches.append(Message("{batch}全省申报截止日期为{day}，还有{n}个工作日", batch=batch.name_zh,
                                                 day=Day(batch.provincial_deadline), n=days))  # fmt: skip
    waiting = {(city_id, batch_id): count for city_id, batch_id, count in session.execute(
        select(Application.city_id, Application.batch_id, func.count())
        .where(Application.status.in_(WAITING_FOR_CITY)).group_by(Application.city_id, Application.batch_id)
    )}  # fmt: skip
    rows = session.execute(select(BatchDeadline, Batch).join(BatchDeadline.batch)
                           .where(Batch.province_id == province_id, BatchDeadline.deadline >= today))  # fmt: skip
    for deadline, batch in rows:
        days = working_days_until(today, deadline.deadline)
        if days in BATCH_DAYS:
            pending = waiting.get((deadline.city_id, batch.id), 0)
            extra = Message("；本市尚有{n}份申报待市级初审", n=pending) if pending else ""
            digests[deadline.city_id].batches.append(Message("{batch}本市申报截止日期为{day}，还有{n}个工作日{extra}",
                                                             batch=batch.name_zh, day=Day(deadline.deadline), n=days,
                                                             extra=extra))  # fmt: skip


def _milestones(session: Session, reader: object, today: dt.date, digests: dict[int | None, Digest]) -> None:
    late = select(Milestone.pilot_id).where(Milestone.due_date < today, Milestone.achieved_on.is_(None))
    pilots = {p.id: p for p in session.scalars(
        visible_pilots(reader).where(Pilot.id.in_(late), Pilot.status.in_(RUNNING))
    )}  # fmt: skip
    found = overdue_milestones(session, list(pilots), today)
    for pilot_id, milestones in found.items():
        pilot = pilots[pilot_id]
        for milestone in milestones:
            days = -working_days_until(today, milestone.due_date)
            digests[pilot.city_id].milestones.append(Message("{pilot}：{milestone}（应于{day}完成，已逾期{n}个工作日）",
                                                             pilot=pilot.name, milestone=milestone.title,
                                                             day=Day(milestone.due_date), n=days))  # fmt: skip
