"""notices: a name kept in both languages as one stored parameter ({"label": [zh, en]}, the form of
tracker.core.messages.to_data) instead of two keys ``x_zh`` and ``x_en``

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTICES = sa.table("notices", sa.column("id", sa.Integer), sa.column("params", sa.JSON))


def joined(params: dict[str, object]) -> dict[str, object]:
    """period_zh + period_en → period: {"label": [zh, en]}; every other key as it is."""
    out = {k: v for k, v in params.items() if not (k.endswith(("_zh", "_en")) and k[:-3] + "_zh" in params
                                                   and k[:-3] + "_en" in params)}  # fmt: skip
    for key in params:
        if key.endswith("_zh") and key[:-3] + "_en" in params:
            out[key[:-3]] = {"label": [str(params[key]), str(params[key[:-3] + "_en"])]}
    return out


def split(params: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in params.items():
        pair = value.get("label") if isinstance(value, dict) else None
        if isinstance(pair, list) and len(pair) == 2:
            out[f"{key}_zh"], out[f"{key}_en"] = pair
        else:
            out[key] = value
    return out


def _rewrite(change: Callable[[dict[str, object]], dict[str, object]]) -> None:
    connection = op.get_bind()
    for notice_id, params in connection.execute(sa.select(NOTICES.c.id, NOTICES.c.params)).all():
        if isinstance(params, dict) and (new := change(params)) != params:
            connection.execute(NOTICES.update().where(NOTICES.c.id == notice_id).values(params=new))


def upgrade() -> None:
    _rewrite(joined)


def downgrade() -> None:
    _rewrite(split)
