"""Names for JSON-shaped values: a row of a data grid, an API body, a choice of a dropdown.

Their values are ``object``, not ``Any``: a reader narrows a value (isinstance) before using it as
a number or a text, and a writer may put in any value the JSON encoder (or Dash's) accepts.
"""

from __future__ import annotations

from typing import TypeAlias, TypedDict

JsonRow: TypeAlias = dict[str, object]  # one row of an AG Grid, one object of an API body


class Option(TypedDict):
    """One choice of a dropdown: what it shows and the value it stands for (an id or a stored value)."""

    label: str
    value: int | str


__all__ = ["JsonRow", "Option"]
