"""catalogue: the departments' and the work plan's names in English (name_en, group_title_en, title_en)

The English readers' names of the departments and of the provincial work plan's sections and tasks
(the plan's own assignment texts stay as written, in Chinese). Nullable: a name without English is
shown in Chinese. Rows already loaded get the names of the catalogue files shipped with this revision
(``tracker/catalogue/departments.csv``, ``work_plan_tasks.csv``); a row edited since keeps its Chinese.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 02:40:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue"
PROVINCE = "(SELECT id FROM provinces WHERE provinces.code = :province)"


def _rows(name: str) -> list[dict[str, str]]:
    with (CATALOGUE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite 3.35+ drops a column in place): a batch operation would
    # copy the tables, which rows of other tables point at.
    op.add_column("departments", sa.Column("name_en", sa.String(length=200), nullable=True))
    op.add_column("work_plan_tasks", sa.Column("group_title_en", sa.String(length=200), nullable=True))
    op.add_column("work_plan_tasks", sa.Column("title_en", sa.String(length=200), nullable=True))
    connection = op.get_bind()
    for row in _rows("departments.csv"):
        connection.execute(
            sa.text(f"UPDATE departments SET name_en = :en WHERE code = :code AND name_zh = :zh AND province_id = {PROVINCE}"),
            {"en": row.get("name_en") or None, "code": row["code"], "zh": row["name_zh"], "province": row["province_code"]},
        )
    for row in _rows("work_plan_tasks.csv"):
        connection.execute(
            sa.text(
                "UPDATE work_plan_tasks SET group_title_en = :group_en, title_en = :en "
                f"WHERE number = :number AND province_id = {PROVINCE} AND title_zh = :zh"
            ),
            {"group_en": row.get("group_title_en") or None, "en": row.get("title_en") or None,
             "number": int(row["number"]), "province": row["province_code"], "zh": row["title_zh"]},  # fmt: skip
        )


def downgrade() -> None:
    op.drop_column("work_plan_tasks", "title_en")
    op.drop_column("work_plan_tasks", "group_title_en")
    op.drop_column("departments", "name_en")
