"""A live server for a browser test: a fresh database built by the test's own ``build``, the app
served on 127.0.0.1 (one threaded werkzeug server in this process) for the module's tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from tests.conftest import fresh_database, initialise, make_settings
from tracker.core.db import make_engine, make_session_factory


@contextmanager
def serve_world(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Session], object]
) -> Iterator[str]:
    """The base address of the app serving a database that ``build`` filled (and committed)."""
    from dashboards.app import create_app

    tmp = tmp_path_factory.mktemp(name)
    with fresh_database(tmp) as url:
        initialise(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            build(session)
        server = make_server(
            "127.0.0.1", 0, create_app(make_settings(url, tmp), factory).server, threaded=True
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            engine.dispose()
