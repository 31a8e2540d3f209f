"""Who scheduled jobs send to (发送对象): addresses and group-robot webhooks by audience and city.

The provincial administrator manages them all; a city bureau manages its own city's (the permission
module decides). Every change is audited (``Recipient`` is audited); a recipient is switched off,
never deleted, so the trail keeps who was sent what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import require_manage_recipients
from tracker.core.errors import TrackerError
from tracker.core.i18n import DEFAULT_LOCALE, LOCALES
from tracker.core.messages import Joined, Message
from tracker.core.secrets import redact
from tracker.models import Audience, Channel, City, Recipient, User

_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


@dataclass(frozen=True)
class RecipientEntry:
    audience: Audience
    city: City | None
    channel: Channel
    address: str
    name: str
    active: bool = True
    locale: str = DEFAULT_LOCALE  # the language its messages are written in


def check_entry(entry: RecipientEntry) -> list[Message]:
    """Every problem of the entry."""
    problems: list[Message] = []
    address, name = entry.address.strip(), entry.name.strip()
    if entry.audience is Audience.CITY and entry.city is None:
        problems.append(Message("市级发送对象须选择城市"))
    if entry.audience is not Audience.CITY and entry.city is not None:
        problems.append(Message("省级和领导发送对象不属于某个城市"))
    if not name or len(name) > 100:
        problems.append(Message("名称不能为空，且不超过100字"))
    if entry.channel is Channel.EMAIL and not _EMAIL.fullmatch(address):
        problems.append(Message("不是有效的电子邮件地址：{address}", address=address))
    if entry.channel is Channel.WEBHOOK:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                Message("群机器人地址应为 http(s):// 开头的网址：{address}", address=redact(address))
            )
    if len(address) > 500:
        problems.append(Message("地址过长（最多500字符）"))
    if entry.locale not in LOCALES:
        problems.append(Message("不支持的语言：{locale}", locale=entry.locale))
    return problems


def save_recipient(
    session: Session, user: User, entry: RecipientEntry, recipient_id: int | None = None
) -> Recipient:
    """Add a recipient, or change one (including switching it off); checked, audited, all or nothing."""
    require_manage_recipients(user, entry.audience, entry.city)
    problems = check_entry(entry)
    if problems:
        raise TrackerError(Message("{problems}", problems=Joined(problems)))
    row = None
    if recipient_id is not None:
        row = session.get(Recipient, recipient_id)
        if row is None or row.province_id != user.province_id:
            raise TrackerError(Message("没有这个发送对象"))
        require_manage_recipients(user, row.audience, row.city)
    city_id = entry.city.id if entry.city is not None else None
    same = session.scalars(select(Recipient).where(
        Recipient.audience == entry.audience, Recipient.city_id.is_(None) if city_id is None else Recipient.city_id == city_id,
        Recipient.channel == entry.channel, Recipient.address == entry.address.strip(),
    )).first()  # fmt: skip
    if same is not None and same is not row:
        raise TrackerError(Message("已有相同的发送对象：{name}（{redact_address}）", name=same.name, redact_address=redact(same.address)))  # fmt: skip
    if row is None:
        row = Recipient(province_id=user.province_id)
        session.add(row)
    row.audience, row.city_id, row.channel = entry.audience, city_id, entry.channel
    row.address, row.name, row.active = entry.address.strip(), entry.name.strip(), entry.active
    row.locale = entry.locale
    session.flush()
    return row


def recipients_for(
    session: Session, province_id: int, audience: Audience, city_id: int | None = None
) -> list[Recipient]:
    """The active recipients of an audience (and city), in a stable order."""
    stmt = select(Recipient).where(Recipient.province_id == province_id, Recipient.audience == audience,
                                   Recipient.active.is_(True))  # fmt: skip
    if city_id is not None:
        stmt = stmt.where(Recipient.city_id == city_id)
    return list(session.scalars(stmt.order_by(Recipient.channel, Recipient.address)))
