"""recipients: the language a recipient is written to (mails and group-robot messages)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=10), server_default="zh_CN", nullable=False))
        batch_op.create_check_constraint(op.f("ck_recipients_locale_known"), "locale IN ('zh_CN', 'en')")


def downgrade() -> None:
    with op.batch_alter_table("recipients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_recipients_locale_known"), type_="check")
        batch_op.drop_column("locale")
