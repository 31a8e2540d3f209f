"""work plan updates: each lead department's periodic report on the 12 key tasks of 晋环发〔2024〕31号

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 06:25:27.168160
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('work_plan_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'accepted', name='update_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('progress', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('work_done', sa.Text(), nullable=True),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.Column('next_steps', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('last_submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_late', sa.Boolean(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_work_plan_updates_end_after_start')),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_work_plan_updates_progress_range')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_work_plan_updates_department_id_departments')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_work_plan_updates_entered_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_work_plan_updates_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_work_plan_updates_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['work_plan_tasks.id'], name=op.f('fk_work_plan_updates_task_id_work_plan_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_plan_updates')),
    sa.UniqueConstraint('task_id', 'department_id', 'period_start', name='uq_work_plan_updates_task_period')
    )


def downgrade() -> None:
    op.drop_table('work_plan_updates')
