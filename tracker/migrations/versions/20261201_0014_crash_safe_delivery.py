"""crash-safe delivery: uncertain messages, a stable Message-ID, claims, scheduler heartbeats

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:30:28.515221
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ('pending', 'sending', 'sent', 'failed')
STATES_NOW = (*STATES, 'uncertain')


def _state_check(states: tuple[str, ...]) -> str:
    return "state IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def upgrade() -> None:
    op.create_table('scheduler_processes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_beat', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_processes'))
    )
    with op.batch_alter_table('scheduler_processes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_processes_last_beat'), ['last_beat'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))

    # Every message queued before this revision gets its Message-ID now (one per row, made once);
    # one left "sending" was claimed when its next attempt was set.
    bind = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('message_id', sa.String()),
                      sa.column('state', sa.String()), sa.column('claimed_at', sa.DateTime(timezone=True)),
                      sa.column('next_attempt_at', sa.DateTime(timezone=True)))
    for (row_id,) in bind.execute(sa.select(outbox.c.id)).all():
        bind.execute(outbox.update().where(outbox.c.id == row_id)
                     .values(message_id=f"<{uuid.uuid4().hex}@cfp-pilot-tracker>"))
    bind.execute(outbox.update().where(outbox.c.state == 'sending').values(claimed_at=outbox.c.next_attempt_at))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_id'), ['message_id'])
        batch_op.drop_constraint(batch_op.f('ck_outbox_outbox_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_outbox_state'), _state_check(STATES_NOW))


def downgrade() -> None:
    # An uncertain message was interrupted while sending: before this revision that was "sending".
    op.execute("UPDATE outbox SET state = 'sending' WHERE state = 'uncertain'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_outbox_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_outbox_state'), _state_check(STATES))
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_id'), type_='unique')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('message_id')

    with op.batch_alter_table('scheduler_processes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_processes_last_beat'))

    op.drop_table('scheduler_processes')
