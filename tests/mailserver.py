"""A real SMTP server (aiosmtpd) and a group-robot webhook, both on loopback, for the outbox and the
scheduled jobs' tests."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tracker.core.config import MailSettings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mail(port: int) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, security="none", username=None, password=None,
                        sender="cfp-tracker@127.0.0.1")  # fmt: skip


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), port or free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield inbox, port
    finally:
        server.stop()


class Robot(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        Robot.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def robot_server() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """A WeCom-style group robot on loopback: what it received, and its webhook URL."""
    Robot.received = []
    server = HTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Robot.received, f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test"
    finally:
        server.shutdown()
        server.server_close()
