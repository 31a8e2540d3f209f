"""catalogue: the departments' and the work plan's names in English (name_en, group_title_en, title_en)

The English readers' names of the departments and of the provincial work plan's sections and tasks
(the plan's own assignment texts stay as written, in Chinese). Nullable: a name without English is
shown in Chinese. Rows already loaded get the names the catalogue files shipped with this revision
(written out below); a name edited since (its Chinese no longer the file's) keeps no English.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVINCE = "(SELECT id FROM provinces WHERE provinces.code = '140000')"
# As shipped with this revision (tracker/catalogue/departments.csv, work_plan_tasks.csv), written out
# here so that a later edit of those files does not change what this revision did.
DEPARTMENTS = [  # code, name_zh, name_en
    ('sthjt', '山西省生态环境厅', 'Department of Ecology and Environment'),
    ('fgw', '山西省发展和改革委员会', 'Development and Reform Commission'),
    ('gxt', '山西省工业和信息化厅', 'Department of Industry and Information Technology'),
    ('czt', '山西省财政厅', 'Department of Finance'),
    ('rst', '山西省人力资源和社会保障厅', 'Department of Human Resources and Social Security'),
    ('zjt', '山西省住房和城乡建设厅', 'Department of Housing and Urban-Rural Development'),
    ('jtt', '山西省交通运输厅', 'Department of Transport'),
    ('swt', '山西省商务厅', 'Department of Commerce'),
    ('rmyh', '中国人民银行山西省分行', "People's Bank of China, Shanxi Branch"),
    ('gzw', '山西省人民政府国有资产监督管理委员会', 'State-owned Assets Supervision and Administration Commission'),
    ('tyhg', '太原海关', 'Taiyuan Customs'),
    ('scjgj', '山西省市场监督管理局', 'Administration for Market Regulation'),
    ('jrjg', '国家金融监督管理总局山西监管局', 'National Financial Regulatory Administration, Shanxi Office'),
    ('zjj', '中国证券监督管理委员会山西监管局', 'China Securities Regulatory Commission, Shanxi Office'),
    ('nyj', '山西省能源局', 'Energy Administration'),
    ('sjj', '山西省数据局', 'Data Administration'),
    ('nynct', '山西省农业农村厅', 'Department of Agriculture and Rural Affairs'),
    ('jyt', '山西省教育厅', 'Department of Education'),
    ('tyszf', '太原市人民政府', 'Taiyuan Municipal Government'),
    ('czszf', '长治市人民政府', 'Changzhi Municipal Government'),
]  # fmt: skip
TASKS = [  # number, group_title_zh, group_title_en, title_zh, title_en
    (1, '加快建立碳足迹管理体系', 'Build the carbon footprint management system faster', '积极参与碳足迹核算和分级管理规则制定', 'Take an active part in drafting the rules for carbon footprint accounting and grading'),
    (2, '加快建立碳足迹管理体系', 'Build the carbon footprint management system faster', '参与国家产品碳足迹因子数据库建设', 'Take part in building the national product carbon footprint factor database'),
    (3, '加快建立碳足迹管理体系', 'Build the carbon footprint management system faster', '落实产品碳标识认证制度', 'Put the product carbon label certification system into practice'),
    (4, '加快建立碳足迹管理体系', 'Build the carbon footprint management system faster', '探索建立碳足迹信息披露制度', 'Explore a carbon footprint disclosure system'),
    (5, '构建多方参与的碳足迹工作格局', 'Build a carbon footprint work pattern with many parties taking part', '强化政策支持与协同', 'Strengthen policy support and coordination'),
    (6, '构建多方参与的碳足迹工作格局', 'Build a carbon footprint work pattern with many parties taking part', '加大金融支持力度', 'Increase financial support'),
    (7, '鼓励重点行业和产品开展碳足迹管理', 'Encourage key industries and products to manage their carbon footprint', '探索开展重点产品碳足迹试点', 'Explore carbon footprint pilots for key products'),
    (8, '鼓励重点行业和产品开展碳足迹管理', 'Encourage key industries and products to manage their carbon footprint', '丰富产品碳足迹应用场景', 'Widen the uses of product carbon footprints'),
    (9, '加强产品碳足迹能力建设', 'Strengthen product carbon footprint capacity', '加强产品碳足迹人才培养', 'Train product carbon footprint professionals'),
    (10, '加强产品碳足迹能力建设', 'Strengthen product carbon footprint capacity', '发展产品碳足迹专业服务', 'Develop professional product carbon footprint services'),
    (11, '加强产品碳足迹能力建设', 'Strengthen product carbon footprint capacity', '强化产品碳足迹数据质量', 'Improve the quality of product carbon footprint data'),
    (12, '加强产品碳足迹能力建设', 'Strengthen product carbon footprint capacity', '推进产品碳足迹交流合作', 'Promote exchange and cooperation on product carbon footprints'),
]  # fmt: skip


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite 3.35+ drops a column in place): a batch operation would
    # copy the tables, which rows of other tables point at.
    op.add_column("departments", sa.Column("name_en", sa.String(length=200), nullable=True))
    op.add_column("work_plan_tasks", sa.Column("group_title_en", sa.String(length=200), nullable=True))
    op.add_column("work_plan_tasks", sa.Column("title_en", sa.String(length=200), nullable=True))
    connection = op.get_bind()
    for code, zh, en in DEPARTMENTS:
        connection.execute(
            sa.text(f"UPDATE departments SET name_en = :en WHERE code = :code AND name_zh = :zh AND province_id = {PROVINCE}"),
            {"en": en, "code": code, "zh": zh},
        )
    for number, group_zh, group_en, title_zh, title_en in TASKS:
        connection.execute(
            sa.text(f"UPDATE work_plan_tasks SET title_en = :en WHERE number = :number AND title_zh = :zh "
                    f"AND province_id = {PROVINCE}"),
            {"en": title_en, "number": number, "zh": title_zh},
        )  # fmt: skip
        connection.execute(
            sa.text(f"UPDATE work_plan_tasks SET group_title_en = :en WHERE number = :number "
                    f"AND group_title_zh = :zh AND province_id = {PROVINCE}"),
            {"en": group_en, "number": number, "zh": group_zh},
        )  # fmt: skip


def downgrade() -> None:
    op.drop_column("work_plan_tasks", "title_en")
    op.drop_column("work_plan_tasks", "group_title_en")
    op.drop_column("departments", "name_en")
