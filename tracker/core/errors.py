"""Errors a user can act on: each carries a Chinese and an English message."""

from __future__ import annotations


class TrackerError(ValueError):
    """Bad input or a refused operation; nothing was changed."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en
