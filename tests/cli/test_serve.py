"""`tracker serve`: gunicorn workers freeze their startup heap once the app is built (the garbage
collector's full passes no longer walk it: docs/PERFORMANCE.md)."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tracker_cli import serve as serving


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
