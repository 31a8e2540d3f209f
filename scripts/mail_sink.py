"""A local mail sink for trying the scheduled jobs: an SMTP server on loopback (aiosmtpd, installed
with the test extras) that saves every message it receives as an .eml file and prints a line.

    .venv/bin/python scripts/mail_sink.py --port 8025 --dir /tmp/cfp-mail
    TRACKER_MAIL_HOST=127.0.0.1 TRACKER_MAIL_PORT=8025 TRACKER_MAIL_SECURITY=none .venv/bin/tracker scheduler
"""

from __future__ import annotations

import argparse
import email
import time
from email import policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:04d}.eml"
        path.write_bytes(envelope.content)
        files = [part.get_filename() for part in message.iter_attachments()]
        print(f"收到 / received: {message['To']} | {message['Subject']} | {', '.join(files) or '—'} → {path}",
              flush=True)  # fmt: skip
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description="本地邮件接收器 / a local mail sink on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("instance/mail"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    server = Controller(Saver(args.dir), hostname="127.0.0.1", port=args.port)
    server.start()
    print(
        f"邮件接收器已启动 / mail sink on 127.0.0.1:{args.port}, saving to {args.dir} (Ctrl-C to stop)",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
