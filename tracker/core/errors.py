"""Errors a user can act on: each carries a ``Message`` (an id and its parameters), translated when
shown — on a page in the reader's language, in the CLI and the logs in both (``str(error)``)."""

from __future__ import annotations

from tracker.core.messages import CarriesMessage, Message, both


class Refusal(CarriesMessage, Exception):
    """Something refused, with the message that says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def text(self, locale: str | None = None) -> str:
        return self.message.text(locale)

    def __str__(self) -> str:
        return both(self.message)


class TrackerError(Refusal, ValueError):
    """Bad input or a refused operation; nothing was changed."""
