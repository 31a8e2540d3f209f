"""Secrets stay where they are needed: a group robot's webhook key (``…/send?key=…``), a token or a
password in a URL is replaced by ``***`` wherever text leaves the place that must hold it — audit
events (their summaries and before/after values), log lines, error messages, exports and pages.
Only the recipient row itself and the queued message keep the address whole, to send to it."""

from __future__ import annotations

import logging
import re

# A query parameter or a userinfo password that works as a credential.
_PARAMETER = re.compile(
    r"(?i)(?P<name>\b(?:key|access_token|token|secret|password|passwd|pwd|sign|signature|ticket)=)[^&#\s'\"<>）)]+"
)
_USERINFO = re.compile(r"(?i)(?P<scheme>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@")
MASK = "***"


def redact(text: str) -> str:
    """``text`` with every credential in a URL replaced by ``***``."""
    if "=" not in text and "@" not in text:
        return text
    text = _PARAMETER.sub(lambda m: m.group("name") + MASK, text)
    return _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", text)


def redact_value(value: object) -> object:
    """``redact`` through strings, lists and dicts (an audit event's before/after values)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


def install_log_redaction() -> None:
    """Redact every log record as it is made (any logger, any handler: web workers, the scheduler,
    the CLI). Installed once per process; a record whose message cannot be rendered is left as is."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: the logging module reports it itself
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    make.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
