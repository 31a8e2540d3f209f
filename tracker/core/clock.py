"""The one clock the application reads, so tests and the demo can set it.

Everything that asks what time it is calls :func:`now_utc`, :func:`now_in` or :func:`local_today`
(``tracker.core.db.utcnow`` delegates here). By default that is the wall clock. The clock can be set to a
fixed instant instead, where it then stands still:

- in code, ``set_now(instant)`` (``None`` goes back to the wall clock) or ``with pinned(instant):``;
- for a whole process and its children, the environment variable ``TRACKER_CLOCK_NOW``
  (``2027-01-01T09:00+08:00``; a bare date ``2027-03-31`` means noon in China), read when this
  module is first imported, so ``TRACKER_CLOCK_NOW=… tracker demo`` builds and serves the demo as
  on that day.

A set clock is for tests and demonstrations: anything measured by it (back-offs, session expiry)
does not elapse while it stands still. Performance timers use ``time.monotonic`` and are unaffected.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

ENV = "TRACKER_CLOCK_NOW"
_BARE_DATE_AT = dt.time(12, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a bare date: noon in China

_fixed: dt.datetime | None = None  # the set instant (UTC), or None: the wall clock


class ClockError(ValueError):
    """An instant the clock cannot be set to (the message is bilingual)."""


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its UTC offset (or ``Z``), or a bare date (noon in China), as UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), _BARE_DATE_AT).astimezone(dt.UTC)
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ClockError(
            f"{ENV}={text!r} 不是带时区的时刻（应为 2027-01-01T09:00+08:00 或 2027-01-01）/ "
            f"is not an instant with its offset (use 2027-01-01T09:00+08:00 or 2027-01-01)"
        )
    return instant.astimezone(dt.UTC)


def _as_utc(instant: dt.datetime | str) -> dt.datetime:
    if isinstance(instant, str):
        return parse_instant(instant)
    if instant.tzinfo is None:
        raise ClockError("时刻须带时区 / the instant needs a time zone")
    return instant.astimezone(dt.UTC)


def now_utc() -> dt.datetime:
    """Now, timezone-aware in UTC (the only form datetimes are stored in)."""
    return _fixed if _fixed is not None else dt.datetime.now(dt.UTC)


def now_in(tz: dt.tzinfo) -> dt.datetime:
    """Now in the given zone (the regulator's, from the settings)."""
    return now_utc().astimezone(tz)


def local_today(tz: dt.tzinfo) -> dt.date:
    """Today's date where the regulator is (Asia/Shanghai by default), whatever the server's zone."""
    return now_in(tz).date()


def is_set() -> bool:
    """Whether the clock stands at a set instant (rather than following the wall clock)."""
    return _fixed is not None


def set_now(instant: dt.datetime | str | None) -> None:
    """Stand the clock at ``instant`` (aware datetime or ISO text); ``None``: the wall clock again."""
    global _fixed
    _fixed = None if instant is None else _as_utc(instant)


@contextmanager
def pinned(instant: dt.datetime | str) -> Iterator[dt.datetime]:
    """The clock at ``instant`` inside the block, as it was before afterwards."""
    before = _fixed
    set_now(instant)
    try:
        yield now_utc()
    finally:
        set_now(before)


def from_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Set the clock from ``TRACKER_CLOCK_NOW`` (the wall clock when it is unset or empty)."""
    text = environ.get(ENV, "").strip()
    set_now(text or None)


from_environment()
