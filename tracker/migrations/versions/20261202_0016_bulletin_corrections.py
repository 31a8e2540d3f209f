"""bulletin corrections: a correction number and reason beside the original; forced and correction
requests; the deferred run state (a bulletin whose period's updates are not due yet)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ('running', 'succeeded', 'failed', 'skipped')
STATES_NOW = (*STATES, 'deferred')


def _state_check(states: tuple[str, ...]) -> str:
    return "state IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def upgrade() -> None:
    # Every bulletin archived so far is an original (correction 0); the default only fills them.
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.alter_column('correction', existing_type=sa.Integer(), server_default=None)
        batch_op.drop_constraint(batch_op.f('uq_bulletins_kind_period_cut'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_bulletins_kind_period_cut_correction'),
                                          ['kind', 'period', 'cut', 'correction'])

    with op.batch_alter_table('job_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('force', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    with op.batch_alter_table('job_requests', schema=None) as batch_op:
        batch_op.alter_column('force', existing_type=sa.Boolean(), server_default=None)

    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_job_runs_job_run_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_job_runs_job_run_state'), _state_check(STATES_NOW))


def downgrade() -> None:
    # A deferred run did nothing: before this revision it is a failed one (retried by the next run).
    op.execute("UPDATE job_runs SET state = 'failed' WHERE state = 'deferred'")
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_job_runs_job_run_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_job_runs_job_run_state'), _state_check(STATES))

    with op.batch_alter_table('job_requests', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('force')

    # Corrections cannot live under the narrower key: they go with the revision.
    op.execute("DELETE FROM bulletins WHERE correction <> 0")
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bulletins_kind_period_cut_correction'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_bulletins_kind_period_cut'), ['kind', 'period', 'cut'])
        batch_op.drop_column('reason')
        batch_op.drop_column('correction')
