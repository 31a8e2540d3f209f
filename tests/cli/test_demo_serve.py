"""What `tracker demo` and `tracker serve` do before serving: a port that cannot be bound is refused
in both languages (no URL printed, no gunicorn started); and a server without the Chinese font still
gets its bulletin, the leadership PDF reduced to the figures with a notice, instead of a failed run."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import reports.bulletin_pdf
from tests.jobs.test_bulletin_jobs import run
from tests.jobs.test_bulletin_jobs import world as world  # the fixture, for this module
from tests.reports.test_bulletin import build
from tracker.models import Bulletin, RunState
from tracker.monitoring.bulletin_data import Cut


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.fixture
def gunicorn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Records gunicorn starts instead of serving."""
    import tracker_cli.serve

    started: list[tuple[str, int, int]] = []
    monkeypatch.setattr(
        tracker_cli.serve, "serve", lambda host, port, workers: started.append((host, port, workers))
    )
    return started


def invoke(*args: str) -> Any:
    from tracker_cli.main import cli

    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_refused_before_anything_is_printed_or_started(
    command: str, busy_port: int, gunicorn: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.core.config import get_settings

    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    get_settings.cache_clear()
    try:
        result = invoke(command, "--host", "127.0.0.1", "--port", str(busy_port))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert f"端口 {busy_port} 已被占用" in result.output
    assert f"Port {busy_port} is already in use on 127.0.0.1; try --port " in result.output
    suggested = int(result.output.split("try --port ")[1].split()[0])
    with socket.socket() as probe:  # the suggestion is a port that is free
        probe.bind(("127.0.0.1", suggested))
    assert "http://" not in result.output and gunicorn == []
    assert not (tmp_path / "demo.sqlite3").exists()  # the demo was not built for nothing


def test_serve_on_a_free_port_starts_gunicorn(
    gunicorn: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.mailserver import free_port
    from tracker.core.config import get_settings

    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    get_settings.cache_clear()
    port = free_port()
    try:
        result = invoke("serve", "--port", str(port), "--workers", "3")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert gunicorn == [("127.0.0.1", port, 3)]


def test_an_unknown_host_is_refused_in_both_languages(gunicorn: list[Any]) -> None:
    result = invoke("serve", "--host", "no-such-host.invalid", "--port", "8050")
    assert result.exit_code == 1 and "无法解析监听地址" in result.output and "Cannot resolve" in result.output
    assert gunicorn == []


@pytest.fixture
def no_chinese_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        reports.bulletin_pdf, "FONTS", {"": tmp_path / "none.ttc", "B": tmp_path / "none-bold.ttc"}
    )


def test_without_the_chinese_font_the_leadership_pdf_is_the_figures_and_a_notice(
    db, settings, world, no_chinese_font, caplog
) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    assert reports.bulletin_pdf.missing_font() is not None
    zh, en = reports.bulletin_pdf.missing_font()  # type: ignore[misc]
    assert "缺少中文字体" in zh and "fonts-noto-cjk" in zh and "fonts-noto-cjk" in en
    content = reports.bulletin_pdf.leadership_pdf(build(db, settings, Cut.leadership()))
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "no Chinese font" in text and "fonts-noto-cjk" in text
    assert "Pilots reporting" in text and "November 2025" in text
    assert "缺少中文字体" in caplog.text and "Chinese font" in caplog.text


def test_without_the_chinese_font_the_bulletin_run_still_succeeds(
    db, session_factory, settings, world, no_chinese_font
) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    report = run(session_factory, settings)
    assert report.state is not RunState.FAILED, report.message_zh
    leadership = db.scalars(select(Bulletin).where(Bulletin.cut == "leadership")).one()
    assert leadership.content_type == "application/pdf"
    assert "no Chinese font" in PdfReader(io.BytesIO(leadership.content)).pages[0].extract_text()
    assert db.scalars(select(Bulletin).where(Bulletin.cut == "province")).one().file_name.endswith(".xlsx")


def test_with_the_font_there_is_nothing_to_say() -> None:
    if not all(path.exists() for path in reports.bulletin_pdf.FONTS.values()):
        pytest.skip("this machine has no Noto Sans CJK (fonts-noto-cjk)")
    assert reports.bulletin_pdf.missing_font() is None
