"""`tracker serve`: gunicorn workers freeze their startup heap once the app is built (the garbage
collector's full passes no longer walk it: docs/PERFORMANCE.md); every run gets a fresh folder for the
workers' metric files, and /metrics sums them over every worker."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tracker_cli import serve as serving

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_freezes_the_heap_it_built_the_app_with(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: dict[str, Any] = {}
    monkeypatch.setattr(serving.TrackerServer, "run", lambda self: chosen.update(self.options))
    serving.serve("127.0.0.1", 8099, 2)
    assert chosen["workers"] == 2 and chosen["post_worker_init"] is serving.freeze_startup_heap
    try:
        chosen["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_each_run_gets_a_fresh_metrics_folder_removed_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(serving.MULTIPROC_ENV, raising=False)
    seen: dict[str, Any] = {}

    def run(self: serving.TrackerServer) -> None:
        folder = Path(os.environ[serving.MULTIPROC_ENV])
        seen.update(folder=folder, empty=folder.is_dir() and not any(folder.iterdir()), options=self.options)

    monkeypatch.setattr(serving.TrackerServer, "run", run)
    serving.serve("127.0.0.1", 8099, 2)
    assert seen["empty"] and not seen["folder"].exists()
    assert serving.MULTIPROC_ENV not in os.environ  # the variable does not outlive the run
    assert seen["options"]["child_exit"] is serving.mark_worker_dead


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _livez_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("route") == "/livez":
                return float(sample.value)
    return 0.0


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if _get(f"{base}/livez")[0] == 200:
                return
        except OSError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "tracker serve did not answer /livez"
        time.sleep(0.3)


def _hold_a_worker(port: int) -> socket.socket:
    """A request sent in part: the sync worker that took it waits for the rest, so the other answers."""
    held = socket.create_connection(("127.0.0.1", port), timeout=30)
    held.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.5)  # taken by a worker (accept) before the next requests arrive
    return held


def _finish(held: socket.socket) -> None:
    held.sendall(b"Connection: close\r\n\r\n")
    assert held.recv(100).startswith(b"HTTP/1.1 200")
    held.close()


def test_metrics_sum_every_workers_requests(cli_database: str, tmp_path: Path) -> None:
    """Two gunicorn workers, each made to serve requests by holding the other busy: whichever
    answers a scrape counts the requests of both; the folder is gone when gunicorn stops."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop(serving.MULTIPROC_ENV, None)
    server = subprocess.Popen([sys.executable, "-m", "tracker_cli.main", "serve", "--port", str(port), "--workers",
                               "2"], env=env, cwd=ROOT, start_new_session=True)  # fmt: skip
    try:
        _wait_until_up(base, server)
        start = _livez_count(_get(f"{base}/metrics")[1])
        first = _hold_a_worker(port)  # worker A waits; B serves the next 20
        for _ in range(20):
            assert _get(f"{base}/livez")[0] == 200
        _finish(first)  # A serves one
        second = _hold_a_worker(port)  # one of them waits: the other answers the scrape
        assert _livez_count(_get(f"{base}/metrics")[1]) == start + 21  # 20 (B) or 1 (A) alone
        _finish(second)
        (folder,) = tmp_path.glob("cfp-tracker-metrics-*")
        assert len(list(folder.glob("histogram_*.db"))) == 2  # one file per worker
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert not list(tmp_path.glob("cfp-tracker-metrics-*"))
