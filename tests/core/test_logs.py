"""One logging configuration: readable lines or JSON lines, each with its request's id, no secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from tracker.core.config import SettingsError, load_settings
from tracker.core.logs import configure_logging, new_request_id, request_id

KEY = "0123456789abcdef0123456789abcdef"
WEBHOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"


@pytest.fixture
def restore_root():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_request_id_and_no_secret(restore_root) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    configure_logging("json", stream=out)
    token = request_id.set("req-12345678")
    try:
        logging.getLogger("tracker.test").warning("robot %s failed", WEBHOOK)
        try:
            raise RuntimeError(f"POST {WEBHOOK} refused")
        except RuntimeError:
            logging.getLogger("tracker.test").exception("send failed")
    finally:
        request_id.reset(token)
    logging.getLogger("tracker.test").info("outside a request")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [entry["request_id"] for entry in lines] == ["req-12345678", "req-12345678", "-"]
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "tracker.test"
    assert lines[0]["message"].startswith("robot https://qyapi.weixin.qq.com/")
    assert KEY not in out.getvalue() and "exception" in lines[1]


def test_text_is_the_default_and_one_handler_is_kept(restore_root) -> None:  # type: ignore[no-untyped-def]
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    configure_logging(stream=second)  # a second app in the same process replaces the handler
    logging.getLogger("tracker.test").info("城市 %s 已提交", "长治")
    assert first.getvalue() == ""
    line = second.getvalue().strip()
    assert line.endswith("INFO tracker.test [-] 城市 长治 已提交") and not line.startswith("{")


def test_the_format_setting_is_checked() -> None:
    assert load_settings({"TRACKER_SECRET_KEY": "k"}).log_format == "text"
    assert load_settings({"TRACKER_SECRET_KEY": "k", "TRACKER_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="TRACKER_LOG_FORMAT"):
        load_settings({"TRACKER_SECRET_KEY": "k", "TRACKER_LOG_FORMAT": "xml"})


def test_a_proxys_request_id_is_kept_only_when_it_looks_like_one() -> None:
    assert new_request_id("abcdef12-3456") == "abcdef12-3456"
    for offered in (None, "", "short", "x" * 65, "a b c d e f g h", "id\r\nSet-Cookie: x"):
        made = new_request_id(offered)
        assert made != offered and len(made) == 32


def test_every_answer_names_its_request_and_the_access_line_carries_it(client, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="tracker.access"):
        offered = client.get("/login", headers={"X-Request-ID": "proxy-id-0001"})
        fresh = client.get("/login")
    assert offered.headers["X-Request-ID"] == "proxy-id-0001"
    assert len(fresh.headers["X-Request-ID"]) == 32 and fresh.headers["X-Request-ID"] != "proxy-id-0001"
    lines = [r for r in caplog.records if r.name == "tracker.access"]
    assert [r.request_id for r in lines] == ["proxy-id-0001", fresh.headers["X-Request-ID"]]  # type: ignore[attr-defined]
    assert lines[0].getMessage().startswith("GET /login 200 ")
    assert request_id.get() == "-"  # nothing leaks past the request
