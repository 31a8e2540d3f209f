"""Every request gets an id (the proxy's ``X-Request-ID`` when it sends a sane one), carried by each
log line written while it is served and returned in the answer's ``X-Request-ID``; one access line per
request (method, path, status, milliseconds) goes to the ``tracker.access`` logger, instead of
gunicorn's own access log, so it has the id too."""

from __future__ import annotations

import contextvars
import logging
import time

from flask import Flask, Response, g, request

from tracker.core.logs import new_request_id, request_id

access = logging.getLogger("tracker.access")


def install_request_log(server: Flask) -> None:
    @server.before_request
    def _start() -> None:
        g.request_id_token = request_id.set(new_request_id(request.headers.get("X-Request-ID")))
        g.request_started = time.perf_counter()

    @server.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = request_id.get()
        started = g.get("request_started")
        if started is not None:
            took = (time.perf_counter() - started) * 1000
            access.info("%s %s %s %.0fms", request.method, request.path, response.status_code, took)
        return response

    @server.teardown_request
    def _end(_error: BaseException | None) -> None:
        token: contextvars.Token[str] | None = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
