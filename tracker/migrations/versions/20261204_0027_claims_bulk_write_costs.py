"""claims: the city's foreign key replaced by cities that cannot be deleted or renumbered; no (is_current, city_id) index

A foreign key is checked by a per-row trigger on PostgreSQL: on a bulk import it cost the database
4 s of CPU per million claims, a third of the import (docs/PERFORMANCE.md, issue 21). A claim's
city id is taken by the importer from the cities table in the same transaction, so what the key
guarded against is a city deleted or renumbered afterwards; the database now refuses both (the 11
cities are reference rows, loaded once by ``tracker init`` and never removed).

The index on (is_current, city_id) served no query (nearly every version is current, so the rule
engine reads them by a sequential pass; no page lists claims by city) and cost a bulk import 1.1 s
per million claims on PostgreSQL.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "cities are reference rows: they are never deleted or renumbered"


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_current_city")
        batch_op.drop_constraint("fk_claims_city_id_cities", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION cities_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER cities_no_delete BEFORE DELETE ON cities "
            "FOR EACH ROW EXECUTE FUNCTION cities_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER cities_no_renumber BEFORE UPDATE OF id ON cities "
            "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION cities_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER cities_no_truncate BEFORE TRUNCATE ON cities "
            "FOR EACH STATEMENT EXECUTE FUNCTION cities_refuse_change()"
        )
    else:
        op.execute(f"CREATE TRIGGER cities_no_delete BEFORE DELETE ON cities BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
        op.execute(
            "CREATE TRIGGER cities_no_renumber BEFORE UPDATE OF id ON cities WHEN NEW.id IS NOT OLD.id "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cities_no_truncate ON cities")
        op.execute("DROP TRIGGER IF EXISTS cities_no_renumber ON cities")
        op.execute("DROP TRIGGER IF EXISTS cities_no_delete ON cities")
        op.execute("DROP FUNCTION IF EXISTS cities_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS cities_no_renumber")
        op.execute("DROP TRIGGER IF EXISTS cities_no_delete")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_claims_city_id_cities", "cities", ["city_id"], ["id"])
        batch_op.create_index("ix_claims_current_city", ["is_current", "city_id"], unique=False)
