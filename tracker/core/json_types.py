"""Names for JSON-shaped values: a row of a data grid, an API body, a stored set of parameters.

Their values are ``object``, not ``Any``: a reader narrows a value (isinstance) before using it as
a number or a text, and a writer may put in any value the JSON encoder (or Dash's) accepts.
"""

from __future__ import annotations

from typing import TypeAlias

JsonRow: TypeAlias = dict[str, object]  # one row of an AG Grid, one object of an API body

__all__ = ["JsonRow"]
