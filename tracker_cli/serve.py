"""Serve the dashboard with gunicorn (several worker processes; never the Dash dev server).

``/metrics`` must sum every worker's request times: each run gets a fresh, private folder in
``PROMETHEUS_MULTIPROC_DIR`` (set before any worker starts, so prometheus_client in every worker
writes its figures there), removed when gunicorn stops; gunicorn's ``child_exit`` hook tells
prometheus_client when a worker is gone (its counts stay in the sums).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from gunicorn._types import _WSGIAppType as WSGIApp  # the stubs' name for what load() returns
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # dashboards.metrics reads it


class TrackerServer(BaseApplication):
    """Gunicorn running ``dashboards.app.create_app().server``; each worker builds its own app."""

    def __init__(self, options: dict[str, object]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        from dashboards.app import create_app

        server: WSGIApp = create_app().server  # a Flask app (Dash leaves the attribute untyped)
        return server


def freeze_startup_heap(_worker: Worker) -> None:
    """After a worker has built the app: its objects live as long as the worker, so the cyclic garbage
    collector need not walk them again. Without this, the full collections that a big callback's
    garbage triggers walked the whole app and tripled the slowest overview calls
    (docs/PERFORMANCE.md: p95 196 ms → 73 ms on the national-scale data)."""
    gc.collect()
    gc.freeze()


@contextmanager
def metrics_folder() -> Iterator[Path]:
    """A fresh folder for the workers' metric files, named in the environment while the block runs
    (never an old run's files: a count would start from its leftovers)."""
    folder = Path(tempfile.mkdtemp(prefix="cfp-tracker-metrics-"))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)


def mark_worker_dead(_arbiter: Arbiter, worker: Worker) -> None:
    """gunicorn's ``child_exit``: a worker stopped; prometheus_client drops its live-only gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # the library has no annotation here


def serve(host: str, port: int, workers: int) -> None:
    # No gunicorn access log: the app logs each request with its id (dashboards/request_log.py).
    with metrics_folder():
        TrackerServer({
            "bind": f"{host}:{port}", "workers": workers, "timeout": 120, "accesslog": None,
            "proc_name": "cfp-tracker", "post_worker_init": freeze_startup_heap, "child_exit": mark_worker_dead,
        }).run()  # fmt: skip
