"""One logging configuration for every process (web workers, the scheduler, the CLI): human-readable
lines by default, one JSON object per line with ``TRACKER_LOG_FORMAT=json``. Each record carries the
id of the web request it belongs to (``request_id``, "-" outside a request), and secrets are redacted
before any handler sees a record (``tracker.core.secrets``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import TextIO

from tracker.core.config import LogFormat
from tracker.core.secrets import install_log_redaction, redact

request_id: ContextVar[str] = ContextVar("request_id", default="-")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_HANDLER_MARK = "tracker_log_handler"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(offered: str | None = None) -> str:
    """The id of a request: the proxy's ``X-Request-ID`` when it looks like one, else a fresh one."""
    if offered and _SANE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, request id, message, and the
    exception when there is one (redacted like the message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id.get()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: LogFormat = "text", *, level: int = logging.INFO,
                      stream: TextIO | None = None) -> logging.Handler:  # fmt: skip
    """Install the process's one log handler on the root logger (replacing one installed before)."""
    install_log_redaction()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
