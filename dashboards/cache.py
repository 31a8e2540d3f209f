"""Results of expensive read callbacks, kept while the data they were computed from is unchanged.

The data version is the audit trail's last id of a change (sign-ins and downloads aside): every change of a pilot, task, milestone, update,
flag, bulletin or reference row writes an audit event (``tracker.audit.trail``: row changes by the ORM
hooks, bulk paths such as the flag scan and the claims import by an explicit record), so a new id
means something may have changed and every entry computed before it is ignored. Entries also
expire after ``TTL``, a safety net should a write ever skip the trail.

A key always holds the reader's scope (province, city, role) and language besides the inputs,
so one reader's result is never served to a reader of another scope. The cache is per process
(each web worker has its own); nothing per user is kept, and a worker without the entry computes it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import city_scope
from tracker.core.i18n import current_locale
from tracker.models import AuditEvent, User

T = TypeVar("T")
TTL = 60.0  # seconds
SIZE = 256  # entries per process

_entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()


# Audit events that record a reading or a sign-in, not a change of the data the figures come from:
# they do not make a cached result stale (every login and download would otherwise recompute).
READING_EVENTS = ("login", "logout", "login_failed", "export", "download")


def data_version(session: Session) -> tuple[str, int]:
    """The database and the id of its audit trail's last change of data (the primary key read
    backwards from the end, past any sign-ins and downloads)."""
    last = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.action.not_in(READING_EVENTS))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return str(session.get_bind().engine.url), int(last or 0)


def scope_key(user: User) -> tuple[Hashable, ...]:
    return (user.province_id, city_scope(user), str(user.role), current_locale.get())


def cached(key: Hashable, compute: Callable[[], T], *, now: Callable[[], float] = time.monotonic) -> T:
    """``compute()``'s result for ``key`` (which must hold the data version and the reader's scope)."""
    with _lock:
        found = _entries.get(key)
        if found is not None and now() - found[0] < TTL:
            _entries.move_to_end(key)
            return found[1]  # type: ignore[no-any-return]
    value = compute()  # outside the lock: two workers' threads may both compute; both are right
    with _lock:
        _entries[key] = (now(), value)
        _entries.move_to_end(key)
        while len(_entries) > SIZE:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
