"""Translation catalogue hook. Source strings are Chinese (the UI is Chinese first).

``_()`` marks user-facing text for extraction (pybabel) and looks it up in the active catalogue;
with no catalogue installed for a locale the Chinese source text is returned.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from importlib import resources

DEFAULT_LOCALE = "zh_CN"
current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def _catalogue(locale: str) -> gettext.NullTranslations:
    localedir = resources.files("tracker").joinpath("locale")
    return gettext.translation("messages", localedir=str(localedir), languages=[locale], fallback=True)


def _(message: str) -> str:
    """Translate a Chinese source string into the current locale."""
    locale = current_locale.get()
    if locale == DEFAULT_LOCALE:
        return message
    return _catalogue(locale).gettext(message)
