"""Secrets never leave their place: a group robot's webhook key planted in a recipient is not found
in any audit row, log line, error message, the audit page (and its export), the jobs page or the
recipients page (grid exports write what a page shows), whatever path records the recipient (add, change, refuse a duplicate, refuse a bad
address, queue and fail a message)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from tests.web import call_callback, login
from tracker.core import clock
from tracker.core.errors import TrackerError
from tracker.core.secrets import install_log_redaction, redact
from tracker.delivery.outbox import enqueue
from tracker.delivery.recipients import RecipientEntry, save_recipient
from tracker.models import Audience, AuditEvent, Channel, MessageState, Role

SECRET = "693a91f6-7f2c-4bc4-97a0-0ec2b1fa5a7e"
HOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={SECRET}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (HOOK, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"),
        ("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=xyz",
         "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"),
        ("smtp://mailer:hunter2@mail.example.gov.cn:465", "smtp://mailer:***@mail.example.gov.cn:465"),
        ("已有相同的发送对象：群（https://x/send?key=abc）", "已有相同的发送对象：群（https://x/send?key=***）"),
        ("cz@example.gov.cn", "cz@example.gov.cn"),
    ],
)  # fmt: skip
def test_credentials_in_urls_are_masked(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.fixture
def planted(db, factory):  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="mishu")
    factory.user(Role.PROVINCE_STAFF, username="mishu-staff")
    taiyuan = factory.city("太原")
    row = save_recipient(
        db, admin, RecipientEntry(Audience.CITY, taiyuan, Channel.WEBHOOK, HOOK, "太原市局群")
    )
    save_recipient(
        db, admin, RecipientEntry(Audience.CITY, taiyuan, Channel.WEBHOOK, HOOK, "改名后的群"), row.id
    )
    for address in (HOOK, f"ftp://qyapi.weixin.qq.com/send?key={SECRET}"):  # a duplicate, a bad address
        with pytest.raises(TrackerError) as refused:
            save_recipient(
                db, admin, RecipientEntry(Audience.CITY, taiyuan, Channel.WEBHOOK, address, "再加一次")
            )
        assert SECRET not in refused.value.message_zh + refused.value.message_en
    message = enqueue(db, key="secret-test/r1", channel="webhook", recipient=HOOK, subject="调度通报", body="…",
                      now=clock.now_utc())  # fmt: skip
    assert message is not None
    message.state, message.attempts, message.last_error = MessageState.FAILED, 5, f"HTTP 500 from {HOOK}"
    db.commit()
    return row


def test_no_audit_row_holds_the_key(db, planted) -> None:  # type: ignore[no-untyped-def]
    events = db.scalars(select(AuditEvent)).all()
    assert any(e.entity_type == "recipients" for e in events)
    dumped = json.dumps([[e.summary, e.before, e.after] for e in events], ensure_ascii=False)
    assert SECRET not in dumped and "key=***" in dumped


def test_no_log_line_holds_the_key(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("tracker.delivery.outbox").warning("could not post to %s: %s", HOOK, "timeout")
        logging.getLogger("gunicorn.error").error(f"POST {HOOK} failed")
    assert caplog.records and SECRET not in caplog.text and "key=***" in caplog.text


def test_no_page_or_export_shows_the_key(client, app, planted) -> None:  # type: ignore[no-untyped-def]
    for username in ("mishu", "mishu-staff"):
        login(client, username)
        audit = call_callback(
            client, app, "audit-grid", {"audit-grid.getRowsRequest": {"startRow": 0, "endRow": 100}}
        )
        assert audit.status_code == 200 and SECRET not in audit.get_data(as_text=True)
        jobs = call_callback(client, app, "jobs-history", {"jobs-refresh": 1})
        assert jobs.status_code == 200 and SECRET not in jobs.get_data(as_text=True)
        for path in ("/recipients", "/jobs", "/audit"):
            shown: Any = call_callback(client, app, "_pages_content", {"_pages_location": path})
            assert SECRET not in shown.get_data(as_text=True), (username, path)
        client.post("/logout")
