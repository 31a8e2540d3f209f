"""Telling people (通知): in the app and by mail, once per event.

An event (an update or a work-plan update returned, a city's flag proposal, the province's decision
on a city's flag, a new bulletin) is told to the users who should act on it or know of it, and who
may see its object (``tracker.access.permissions.may_be_told``):

- an update returned → the city staff of its city; mail to the city's recipients;
- a work-plan update returned → the provincial staff who entered and submitted it; mail to the province;
- a city's proposal to dismiss or resolve a flag → provincial staff and admin; mail to the province;
- the province's decision on a city's flag (confirm, dismiss, resolve, accept or reject a proposal)
  → that city's staff; mail to the city's recipients;
- a new bulletin → each user who may read a cut of it (the province every cut's users their own);
  no extra mail (the bulletin job mails the bulletin itself).

Everything happens in the caller's transaction: an action rolled back tells nobody. Each event has
a key (its workflow step, or the bulletin); a notice is unique per user and key, and the outbox
message per key and recipient (``tracker.delivery.outbox``), so telling the same event again adds nothing.
The web only queues mail: the scheduler process delivers it. The notice keeps its kind and
parameters (names and reasons as entered; periods, step names and problems as stored messages,
``tracker.core.messages.to_data``), and is rendered in the reader's language when shown; the mail is
written in its recipient's language (``Recipient.locale``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.access.permissions import (
    PROVINCIAL_ROLES,
    may_be_told,
    require_mark_notice,
    visible_notices,
)
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _
from tracker.core.json_types import JsonRow
from tracker.core.messages import Label, Lines, Message, Shown, from_data, to_data
from tracker.core.periods import Period
from tracker.delivery.outbox import enqueue_to
from tracker.delivery.recipients import recipients_for
from tracker.models import (
    Audience,
    AuditChainHead,
    Bulletin,
    Flag,
    Notice,
    ProgressUpdate,
    Role,
    User,
    WorkflowStep,
    WorkPlanUpdate,
)

UPDATE_RETURNED = "update_returned"
WORK_PLAN_RETURNED = "work_plan_returned"
FLAG_PROPOSED = "flag_proposed"
FLAG_DECIDED = "flag_decided"
BULLETIN = "bulletin"
AUDIT_BROKEN = "audit_broken"
# What one notice says, and how unread notices of a kind are summed up (the head of the list).
TEXT = {
    UPDATE_RETURNED: N_("{pilot}的{period}调度更新被省级退回"),
    WORK_PLAN_RETURNED: N_("重点任务{task}（{department}）的{period}进展被退回"),
    FLAG_PROPOSED: N_("{city}对风险线索{flag}提出：{step}，待省级审核"),
    FLAG_DECIDED: N_("风险线索{flag}（{city}）：{step}"),
    BULLETIN: N_("新调度通报：{title}"),
    AUDIT_BROKEN: N_("审计链校验发现问题：{problem}"),
}
SUMMARY = {
    UPDATE_RETURNED: N_("{n}条更新被退回"),
    WORK_PLAN_RETURNED: N_("{n}项工作方案进展被退回"),
    FLAG_PROPOSED: N_("{n}条风险线索的市级建议待审核"),
    FLAG_DECIDED: N_("{n}条风险线索有省级决定"),
    BULLETIN: N_("{n}份新调度通报"),
    AUDIT_BROKEN: N_("{n}条审计链告警"),
}
FOOTER = Message("本消息由碳足迹试点监管平台自动发送，每件事只通知一次；详情请登录平台“通知”页查看。")
LISTED = 200  # notices on the page; older ones stay stored


@dataclass
class Told:
    """What telling one event did: the notices added and the messages queued (none when told before)."""

    notices: list[Notice] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)


# --- telling ------------------------------------------------------------------------------------------


def tell_update_returned(session: Session, update: ProgressUpdate, step: WorkflowStep, *,
                         now: dt.datetime) -> Told:  # fmt: skip
    """The province returned a city's update: its city staff, and the city's recipients by mail."""
    pilot, period = update.pilot, Period(update.period_start, update.period_end)
    params = _stored(pilot=pilot.name, period=period.label, reason=update.return_reason or "")
    told = _notify(session, _city_staff(session, pilot.city_id), update, step, kind=UPDATE_RETURNED,
                   params=params, link=f"/update-form?pilot={pilot.id}&period={period.key}",
                   object_type="update", city_id=pilot.city_id, now=now)  # fmt: skip
    subject = Message("{pilot}{period}调度更新被省级退回", pilot=pilot.name, period=period.label)
    body = Lines(Message("{what}。", what=subject), Message("退回理由：{reason}", reason=update.return_reason or ""),
                 Message("请修改后重新提交（在线填报或调度填报页）。"))  # fmt: skip
    told.messages = _mail(session, _key(step), pilot.city.province_id, Audience.CITY, pilot.city_id,
                          subject, body, now)  # fmt: skip
    return told


def tell_work_plan_returned(session: Session, update: WorkPlanUpdate, step: WorkflowStep, *,
                            now: dt.datetime) -> Told:  # fmt: skip
    """The admin returned a work-plan update: the provincial staff who entered and submitted it (any
    provincial staff when neither is known), and the province's recipients by mail."""
    period = Period(update.period_start, update.period_end)
    province_id = update.task.province_id
    wanted = {update.entered_by_id, update.submitted_by_id} - {None}
    people = [u for u in _provincial_staff(session, province_id) if not wanted or u.id in wanted]
    params = _stored(task=update.task.number, department=update.department.name_zh, period=period.label,
                     reason=update.return_reason or "")  # fmt: skip
    told = _notify(session, people, update, step, kind=WORK_PLAN_RETURNED, params=params, link="/work-plan",
                   object_type="work_plan_update", city_id=None, now=now)  # fmt: skip
    subject = Message("省级工作方案重点任务{task}（{department}）{period}进展被退回", task=update.task.number,
                      department=update.department.name_zh, period=period.label)  # fmt: skip
    body = Lines(Message("{what}。", what=subject), Message("退回理由：{reason}", reason=update.return_reason or ""),
                 Message("请修改后重新提交（省级工作方案页）。"))  # fmt: skip
    told.messages = _mail(session, _key(step), province_id, Audience.PROVINCE, None, subject, body, now)
    return told


def tell_flag_proposal(session: Session, flag: Flag, step: WorkflowStep, *, label: Label,
                       now: dt.datetime) -> Told:  # fmt: skip
    """A city proposed to dismiss or resolve its flag: provincial staff and admin decide."""
    if flag.city is None:
        return Told()
    province_id = flag.city.province_id
    told = _notify(session, _provincial_staff(session, province_id), flag, step, kind=FLAG_PROPOSED,
                   params=_flag_params(flag, step, label), link=f"/flags?id={flag.id}",
                   object_type="flag", city_id=flag.city_id, now=now)  # fmt: skip
    subject = Message(
        "{city}对风险线索{flag}提出{step}，待省级审核", city=_city(flag), flag=flag.id, step=label
    )
    body = Lines(Message("{what}。", what=subject), _flag_line(flag), Message("理由：{reason}", reason=step.reason or ""),
                 Message("请在平台“风险线索”页采纳或驳回。"))  # fmt: skip
    told.messages = _mail(session, _key(step), province_id, Audience.PROVINCE, None, subject, body, now)
    return told


def tell_flag_decision(session: Session, flag: Flag, step: WorkflowStep, *, label: Label,
                       now: dt.datetime) -> Told:  # fmt: skip
    """The province decided on a city's flag (or on its proposal): that city's staff."""
    if flag.city is None or flag.city_id is None:
        return Told()
    told = _notify(session, _city_staff(session, flag.city_id), flag, step, kind=FLAG_DECIDED,
                   params=_flag_params(flag, step, label), link=f"/flags?id={flag.id}",
                   object_type="flag", city_id=flag.city_id, now=now)  # fmt: skip
    subject = Message("风险线索{flag}（{city}）：{step}", flag=flag.id, city=_city(flag), step=label)
    body = Lines(Message("{what}。", what=subject), _flag_line(flag),
                 Message("理由：{reason}", reason=step.reason) if step.reason else None)  # fmt: skip
    told.messages = _mail(session, _key(step), flag.city.province_id, Audience.CITY, flag.city_id, subject,
                          body, now)  # fmt: skip
    return told


def tell_new_bulletins(
    session: Session, province_id: int, kind: str, period: str, *, now: dt.datetime
) -> Told:
    """A bulletin was archived: each user is told of the cut they receive (the province's users of
    the province-wide file, a city's of its own, leaders of the leadership summary; a leader bound
    to a city of that city's). No mail here: the bulletin job sends the bulletin itself."""
    told = Told()
    bulletins = session.scalars(select(Bulletin).where(Bulletin.province_id == province_id, Bulletin.kind == kind,
                                                       Bulletin.period == period).order_by(Bulletin.id))  # fmt: skip
    users = list(session.scalars(select(User).where(User.province_id == province_id, User.is_active.is_(True))
                                 .order_by(User.id)))  # fmt: skip
    for bulletin in bulletins:
        people = [u for u in users if _receives(u, bulletin)]
        params = {"title": bulletin.title, "number": bulletin.number, "period": bulletin.period}
        told.notices += _notify(session, people, bulletin, None, kind=BULLETIN, params=params, link="/bulletins",
                                object_type="bulletin", city_id=bulletin.city_id, now=now,
                                event_key=f"bulletin/{bulletin.id}").notices  # fmt: skip
    return told


def tell_audit_break(session: Session, head: AuditChainHead, *, event_id: int | None, problem: Message,
                     now: dt.datetime) -> Told:  # fmt: skip
    """The provincial admins, once per break (the first event that does not match)."""
    admins = session.scalars(select(User).where(User.role == Role.PROVINCE_ADMIN, User.is_active.is_(True),
                                                User.province_id == head.province_id).order_by(User.id))  # fmt: skip
    return _notify(session, admins, head, None, kind=AUDIT_BROKEN, params=_stored(problem=problem),
                   link="/audit", object_type="audit_chain", city_id=None, now=now, event_key=f"audit-break/{head.province_id}/{event_id}")  # fmt: skip


def _receives(user: User, bulletin: Bulletin) -> bool:
    if bulletin.cut == "province":
        return user.role in PROVINCIAL_ROLES
    if bulletin.cut == "leadership":
        return user.role is Role.LEADER and user.city_id is None
    return user.city_id is not None and user.city_id == bulletin.city_id and may_be_told(user, bulletin)


def _city(flag: Flag) -> Label:
    city = flag.city
    assert city is not None
    return Label(city.name_zh, city.name_en)


def _flag_params(flag: Flag, step: WorkflowStep, label: Label) -> JsonRow:
    return _stored(flag=flag.id, city=_city(flag), step=label, step_key=step.step, reason=step.reason or "",
                   pilot=flag.pilot.name if flag.pilot is not None else "")  # fmt: skip


def _stored(**params: object) -> JsonRow:
    """A notice's parameters as stored: names and reasons as they are, names in both languages and
    messages as data (``tracker.core.messages.to_data``), rendered when the notice is read."""
    return {name: to_data(value) for name, value in params.items()}


def _flag_line(flag: Flag) -> Shown:
    """What the flag found, with its pilot's name when it has one."""
    if flag.pilot is None:
        return flag.message
    return Message("{pilot}：{finding}", pilot=flag.pilot.name, finding=flag.message)


def _city_staff(session: Session, city_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.CITY_STAFF, User.city_id == city_id,
                                                   User.is_active.is_(True)).order_by(User.id)))  # fmt: skip


def _provincial_staff(session: Session, province_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.role.in_(PROVINCIAL_ROLES), User.province_id == province_id,
                                                   User.is_active.is_(True)).order_by(User.id)))  # fmt: skip


def _key(step: WorkflowStep) -> str:
    """The event's key: its workflow step (a second return of the same update is a new step). The
    step is stored by ``_notify``'s flush before the key is read."""
    return f"step/{step.id}"


def _notify(session: Session, people: Iterable[User], obj: object, step: WorkflowStep | None, *, kind: str,
            params: JsonRow, link: str, object_type: str, city_id: int | None, now: dt.datetime,
            event_key: str | None = None) -> Told:  # fmt: skip
    """One notice per person who may see ``obj`` and was not told of the event yet; never the actor."""
    if step is not None:
        session.flush()  # the step gets its id: the event's key
    key = event_key or _key(step)  # type: ignore[arg-type]
    actor = step.actor_id if step is not None else None
    told_before = set(session.scalars(select(Notice.user_id).where(Notice.event_key == key)))
    fresh = [Notice(user_id=person.id, event_key=key, kind=kind, params=params, link=link, object_type=object_type,
                    object_id=getattr(obj, "id", None), city_id=city_id, created_at=now)
             for person in people
             if person.id != actor and person.id not in told_before and may_be_told(person, obj)]  # fmt: skip
    if not fresh:
        return Told()
    savepoint = session.begin_nested()
    try:
        session.add_all(fresh)
        session.flush()
    except IntegrityError:  # told by someone else meanwhile: theirs stands
        savepoint.rollback()
        return Told()
    savepoint.commit()
    return Told(notices=fresh)


def _mail(session: Session, event_key: str, province_id: int, audience: Audience, city_id: int | None,
          subject: Shown, body: Shown, now: dt.datetime) -> list[int]:  # fmt: skip
    """One message per active recipient of the audience (and city), keyed by event and recipient, in
    the recipient's language."""
    queued = []
    for recipient in recipients_for(session, province_id, audience, city_id):
        message = enqueue_to(session, recipient, key=f"notice/{event_key}/r{recipient.id}", subject=subject,
                             body=Lines(body, "", FOOTER), now=now)  # fmt: skip
        if message is not None:
            queued.append(message.id)
    return queued


# --- reading --------------------------------------------------------------------------------------------


def notice_text(notice: Notice) -> str:
    """What the notice says, in the reader's language (names and reasons as entered)."""
    template = TEXT.get(notice.kind)
    if template is None:
        return notice.kind
    return Message(template, **{name: from_data(value) for name, value in notice.params.items()}).text()


def my_notices(session: Session, user: User, limit: int = LISTED) -> list[Notice]:
    """The user's own notices, newest first."""
    return list(session.scalars(visible_notices(user).order_by(Notice.created_at.desc(), Notice.id.desc())
                                .limit(limit)))  # fmt: skip


def unread_count(session: Session, user: User) -> int:
    """The menu bar's count: the user's own unread notices."""
    return sum(unread_by_kind(session, user).values())


def unread_by_kind(session: Session, user: User) -> Counter[str]:
    """The user's own unread notices counted by kind (one query: the menu bar asks on every page)."""
    counted = (visible_notices(user).where(Notice.read_at.is_(None))
               .with_only_columns(Notice.kind, func.count()).group_by(Notice.kind))  # fmt: skip
    return Counter({str(kind): int(n) for kind, n in session.execute(counted)})


def unread_summary(session: Session, user: User) -> list[str]:
    """The user's unread notices summed up by kind, in the reader's language: "2条更新被退回"."""
    return summary_lines(unread_by_kind(session, user))


def summary_lines(kinds: Counter[str]) -> list[str]:
    return [_(SUMMARY[kind]).format(n=kinds[kind]) for kind in SUMMARY if kinds.get(kind)]


def mark_read(session: Session, user: User, notice_ids: Sequence[int] | None, *, now: dt.datetime) -> int:
    """Mark these notices (or, for None, all unread ones) of the user's as read; another's is refused.
    How many changed (audited, one event per notice)."""
    if notice_ids is None:
        chosen = list(session.scalars(visible_notices(user).where(Notice.read_at.is_(None))))
    else:
        chosen = list(session.scalars(select(Notice).where(Notice.id.in_(list(notice_ids)))))
        if len(chosen) != len(set(notice_ids)):
            raise TrackerError(Message("通知不存在"))
    for notice in chosen:
        require_mark_notice(user, notice)
    changed = [n for n in chosen if n.read_at is None]
    for notice in changed:
        notice.read_at = now
    session.flush()
    return len(changed)
