"""claims: version links across claim ids (PACT status, precedingPfIds, the claim that replaced a
version) and how many claims an import took out of force

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRED = sa.text("superseded_by IS NOT NULL OR pact_status = 'deprecated'")


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pact_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("preceding", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_claims_retired", ["claim_key"], unique=False, postgresql_where=RETIRED,
                              sqlite_where=RETIRED)  # fmt: skip
    with op.batch_alter_table("claim_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("claim_imports", schema=None) as batch_op:
        batch_op.drop_column("retired")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_retired")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("preceding")
        batch_op.drop_column("pact_status")
