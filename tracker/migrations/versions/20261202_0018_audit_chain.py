"""audit chain: each audit event's link in a SHA-256 hash chain, and the chain's head

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table('audit_chain',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'], name=op.f('fk_audit_chain_event_id_audit_events')),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_audit_chain_province_id_provinces')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_chain')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_chain_event_id'))
    )
    with op.batch_alter_table('audit_chain', schema=None) as batch_op:
        batch_op.create_index('ix_audit_chain_province_id_seq', ['province_id', 'seq'], unique=False)
    op.create_table('audit_chain_head',
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_links', sa.Integer(), nullable=True),
    sa.Column('broken_event_id', sa.Integer(), nullable=True),
    sa.Column('told_event_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_audit_chain_head_province_id_provinces')),
    sa.PrimaryKeyConstraint('province_id', name=op.f('pk_audit_chain_head'))
    )
    # Each province's chain starts here (a province loaded later gets its head at its first link):
    # events recorded before this migration are not part of any chain.
    op.execute(f"INSERT INTO audit_chain_head (province_id, last_seq, last_hash) SELECT id, 0, '{GENESIS}' FROM provinces")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_chain_no_{event.lower()} BEFORE {event} ON audit_chain "
                "BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_append_only ON audit_chain")
    op.drop_table('audit_chain_head')
    op.drop_table('audit_chain')
