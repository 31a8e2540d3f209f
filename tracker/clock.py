"""The one clock the application reads, so tests can freeze it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_today(tz: ZoneInfo) -> dt.date:
    """Today's date where the regulator is (Asia/Shanghai by default), whatever the server's zone."""
    return dt.datetime.now(tz).date()
