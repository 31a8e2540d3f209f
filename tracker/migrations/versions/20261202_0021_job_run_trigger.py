"""job runs: what started a run as a closed set (scheduled, caught_up, takeover, manual, forced, demo)
and who asked for it in its own column, instead of one composite text ("manual:admin")

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("scheduled", "caught_up", "takeover", "manual", "forced", "demo")


def _split(text: str) -> tuple[str, str | None]:
    """"manual:admin" → ("manual", "admin"); "forced:cli" and "manual" (the CLI) → no user; "cli:demo" → demo."""
    kind, _sep, who = (text or "").partition(":")
    if kind == "cli":
        return ("demo" if who == "demo" else "manual"), None
    if kind not in TRIGGERS:
        return "manual", None
    return kind, (who or None) if who != "cli" else None


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triggered_by", sa.String(length=64), nullable=True))
    runs = sa.table("job_runs", sa.column("id", sa.Integer), sa.column("trigger", sa.String),
                    sa.column("triggered_by", sa.String))  # fmt: skip
    connection = op.get_bind()
    for run_id, text in connection.execute(sa.select(runs.c.id, runs.c.trigger)).all():
        kind, who = _split(text)
        if (kind, who) != (text, None):
            connection.execute(runs.update().where(runs.c.id == run_id).values(trigger=kind, triggered_by=who))
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.alter_column(
            "trigger",
            existing_type=sa.String(length=32),
            type_=sa.Enum(*TRIGGERS, name="job_run_trigger", native_enum=False, create_constraint=False, length=32),
            existing_nullable=False,
        )
        batch_op.create_check_constraint("job_run_trigger", sa.column("trigger").in_(TRIGGERS))


def downgrade() -> None:
    runs = sa.table("job_runs", sa.column("trigger", sa.String), sa.column("triggered_by", sa.String))
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_constraint("job_run_trigger", type_="check")
    op.execute(runs.update().where(runs.c.triggered_by.is_not(None))
               .values(trigger=runs.c.trigger + ":" + runs.c.triggered_by))  # fmt: skip
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("triggered_by")
