"""Serve the dashboard with gunicorn (several worker processes; never the Dash dev server)."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication


class TrackerServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn running ``dashboards.app.create_app().server``; each worker builds its own app."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from dashboards.app import create_app

        return create_app().server


def freeze_startup_heap(_worker: Any) -> None:
    """After a worker has built the app: its objects live as long as the worker, so the cyclic garbage
    collector need not walk them again. Without this, the full collections that a big callback's
    garbage triggers walked the whole app and tripled the slowest overview calls
    (docs/PERFORMANCE.md: p95 196 ms → 73 ms on the national-scale data)."""
    gc.collect()
    gc.freeze()


def serve(host: str, port: int, workers: int) -> None:
    TrackerServer({
        "bind": f"{host}:{port}", "workers": workers, "timeout": 120, "accesslog": "-",
        "proc_name": "cfp-tracker", "post_worker_init": freeze_startup_heap,
    }).run()  # fmt: skip
