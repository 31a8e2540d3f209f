"""flag proposals: a city bureau's pending proposal (dismiss or resolve) for the province to decide

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 22:31:03.243580
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposal', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('proposal_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_flags_proposal'), ['proposal'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_flags_proposed_by_id_users'), 'users', ['proposed_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_flags_proposed_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_flags_proposal'))
        batch_op.drop_column('proposed_at')
        batch_op.drop_column('proposed_by_id')
        batch_op.drop_column('proposal_reason')
        batch_op.drop_column('proposal')
