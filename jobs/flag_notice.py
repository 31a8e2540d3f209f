"""Each new flag told once to the people of its city and to the province, after the nightly scan.

The flags are claimed (``notified_at`` set where still empty) and their messages queued in one
transaction, so a flag is either claimed and queued or neither; a second sender racing for the
same flags gets none of them. A flag whose city and province have no recipient is not claimed: it
waits, and is told once someone is there to tell.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.context import SCHEDULER_ACTOR, JobContext
from tracker.core.db import transaction
from tracker.core.messages import InLocale, Label, Lines, Listed, Message, Shown
from tracker.delivery.outbox import Delivery, deliver, enqueue_to, smtp_send, webhook_post
from tracker.delivery.recipients import recipients_for
from tracker.flags.store import flags_to_notify, mark_notified
from tracker.models import Audience, City, Flag, Recipient, Severity
from tracker.models.labels import label, rule_name
from tracker.monitoring.bulletin_data import only_province

LISTED = 20  # flags named in one message; the rest are counted
ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def notify_new_flags(context: JobContext) -> tuple[Message, Delivery | None]:
    """Queue and send the notices of every open flag not yet told; a sentence of what was done."""
    now = context.started()
    queued: list[int] = []
    with transaction(context.factory, actor=SCHEDULER_ACTOR) as session:
        province = only_province(session)
        city_of = {c.id: c for c in session.scalars(select(City).where(City.province_id == province.id))}
        fresh = [f for f in flags_to_notify(session) if f.city_id is None or f.city_id in city_of]
        if not fresh:
            return Message("无新的风险线索需要通知"), None
        to_province = recipients_for(session, province.id, Audience.PROVINCE)
        to_city: dict[int, list[Recipient]] = defaultdict(list)
        for recipient in recipients_for(session, province.id, Audience.CITY):
            to_city[recipient.city_id or 0].append(recipient)
        told = [f for f in fresh if to_province or to_city.get(f.city_id or 0)]
        if context.dry_run or not told:
            session.rollback()
            why = Message("（演算）") if context.dry_run else Message("，无发送对象")
            return Message(
                "新风险线索{n}条，其中可通知{told}条{why}", n=len(fresh), told=len(told), why=why
            ), None
        claimed = set(mark_notified(session, [f.id for f in told], now=now))
        told = [f for f in told if f.id in claimed]
        by_city: dict[int | None, list[Flag]] = defaultdict(list)
        for flag in told:
            by_city[flag.city_id].append(flag)
        day = context.period
        run_id = context.run_id
        for city_id, flags in by_city.items():
            if city_id is None:
                continue
            city = city_of[city_id]
            subject = Message(
                "{city}新发现风险线索{n}条", city=Label(city.name_zh, city.name_en), n=len(flags)
            )
            for recipient in to_city.get(city_id, []):
                queued += _send(session, f"flags/{day}/city-{city.code}/r{recipient.id}", recipient, subject,
                                _lines(flags), now, run_id)  # fmt: skip
        counts = [Message("{city}{n}条", city=Label(city_of[c].short_zh, city_of[c].name_en), n=len(f))
                  for c, f in sorted(by_city.items(), key=_by_code(city_of)) if c is not None]  # fmt: skip
        body = Lines(Message("按市：{counts}", counts=Listed(counts)) if counts else None, _lines(told))
        for recipient in to_province:
            queued += _send(session, f"flags/{day}/province/r{recipient.id}", recipient,
                            Message("全省新发现风险线索{n}条", n=len(told)), body, now, run_id)  # fmt: skip
    result = deliver(context.factory, now=now, email=partial(smtp_send, context.settings.mail),
                     webhook=webhook_post, ids=queued)  # fmt: skip
    waiting = len(fresh) - len(told)
    waits = Message("；{n}条因无发送对象待通知", n=waiting) if waiting else ""
    return Message("通知新风险线索{told}条（消息{queued}条，已发送{sent}条）{waits}", told=len(told), queued=len(queued),
                   sent=len(result.sent), waits=waits), result  # fmt: skip


def _by_code(city_of: dict[int, City]):  # type: ignore[no-untyped-def]
    return lambda item: city_of[item[0]].code if item[0] is not None else ""


def _lines(flags: list[Flag]) -> Lines:
    """One line per flag, most severe first (at most ``LISTED``; the rest counted), in the reader's language."""
    ranked = sorted(flags, key=lambda f: (ORDER.get(f.severity, 9), f.id))
    lines: list[Shown] = [Message("[{severity}] {whose}{rule}：{finding}（线索编号{id}）", severity=InLocale(partial(label, f.severity)),
                                  whose=_whose(f), rule=InLocale(partial(rule_name, f.rule_id)), finding=f.message, id=f.id)
                          for f in ranked[:LISTED]]  # fmt: skip
    if len(ranked) > LISTED:
        lines.append(Message("……另有{n}条，请登录平台“风险线索核查”页查看", n=len(ranked) - LISTED))
    return Lines(*lines, "", Message("本通知由碳足迹试点监管平台夜间核查后自动发送，每条线索只通知一次。"))


def _whose(flag: Flag) -> Shown | str:
    """Whose flag: the pilot's name (a claim not tied to a pilot is named by its message)."""
    return Message("{pilot}，", pilot=flag.pilot.name) if flag.pilot is not None else ""


def _send(session: Session, key: str, recipient: Recipient, subject: Shown, body: Shown, now: dt.datetime,
          run_id: int | None) -> list[int]:  # fmt: skip
    message = enqueue_to(session, recipient, key=key, subject=subject, body=body, now=now, run_id=run_id)
    return [] if message is None else [message.id]
