"""flags: how a flag was closed (by a reviewer or by a scan), a column instead of its note's text

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The note the scans wrote on the flags they closed, until this revision the only record of it.
AUTO_CLOSED = "复查未再发现（数据已更正），自动关闭 / closed automatically: the finding is gone after a correction"


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "closed_by",
                sa.Enum("review", "scan", name="flag_closure", native_enum=False, create_constraint=True, length=32),
                nullable=True,
            )
        )
    flags = sa.table("flags", sa.column("status", sa.String), sa.column("reason", sa.Text),
                     sa.column("closed_at", sa.DateTime), sa.column("closed_by", sa.String))  # fmt: skip
    op.execute(flags.update().where(flags.c.status == "resolved", flags.c.reason == AUTO_CLOSED)
               .values(closed_by="scan"))  # fmt: skip
    op.execute(flags.update().where(flags.c.status.in_(["resolved", "dismissed"]), flags.c.closed_by.is_(None))
               .values(closed_by="review"))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_flags_flag_closure"), type_="check")
        batch_op.drop_column("closed_by")
