"""flags: the rule's message id (its template) beside the texts rendered at the scan, so a flag is shown
in the reader's language from its rule and evidence

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each rule's template as of this revision: flags recorded before it get theirs (a rule retired
# since, or unknown here, keeps none and is shown by the texts of its scan).
TEMPLATES = {
    "STAGE_SUM_MISMATCH": "分阶段合计{stages}与总值{total}不符",
    "BELOW_PHYSICAL_FLOOR": "碳足迹{footprint}低于该产品的物理下限{floor}",
    "OUTSIDE_PLAUSIBLE_RANGE": "碳足迹{footprint}超出合理区间{low}–{high}",
    "UNIT_SLIP": "碳足迹{footprint}疑似单位错误（×1000后或÷1000后落入合理区间{low}–{high}）",
    "OFFSETS_NETTED": "碳足迹中抵扣了碳抵消量{offsets}（GB/T 24067 不允许）",
    "CERTIFIED_WITHOUT_CERTIFICATE": "标识类型为{label_type}但没有证书编号",
    "CERTIFICATE_EXPIRED": "证书已于{expires}过期，标识于{published}发布",
    "CERTIFICATE_AFTER_PUBLICATION": "证书于{issued}签发，晚于标识发布日{published}",
    "CERTIFICATE_SHARED": "证书编号{certificate_no}被{companies}家企业使用",
    "PERIOD_AFTER_PUBLICATION": "数据期截止于{period_end}，晚于标识发布日{published}",
    "STALE_PERIOD": "数据期截止于{period_end}，发布时已过{years}年",
    "LOW_GRID_FACTOR": "电网排放因子{used}远低于官方值{official}且无绿电说明",
    "REDUCTION_MISMATCH": "声称减排{claimed}%，按基准值计算为{computed}%",
    "GRAVE_WITHOUT_USE_STAGES": "声明为“从摇篮到坟墓”但使用和废弃阶段为零",
    "INVALID_CREDIT_CODE": "统一社会信用代码{credit_code}无效：{errors}",
    "UNRECOGNISED_CERTIFIER": "认证机构“{certifier}”不在认可机构名录中",
    "COPIED_FIGURES": "碳足迹{footprint}及各阶段数值在{companies}家企业间完全相同",
    "PROGRESS_BACKWARDS": "任务“{task}”进度从{previous}%降至{current}%",
    "JUMP_WITHOUT_MILESTONE": "任务“{task}”一期内从{previous}%跃升至{current}%，但未报告完成任何阶段性目标",
    "DONE_WITHOUT_EVIDENCE": "任务“{task}”报100%完成，但阶段性目标（{milestones}）缺少证明材料",
    "TEXT_COPIED_FROM_PREVIOUS": "本期工作进展与上期（{previous_period}）几乎相同（相似度{similarity}）",
    "TEXT_COPIED_FROM_OTHER_PILOT": "本期工作进展与“{other_pilot}”同期报告几乎相同（相似度{similarity}）",
    "INDICATOR_DECREASED": "阶段性目标“{milestone}”的指标{indicator}从{previous}降至{current}",
}


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Text(), nullable=True))
    flags = sa.table("flags", sa.column("rule_id", sa.String), sa.column("message_id", sa.Text))
    for rule_id, template in TEMPLATES.items():
        op.execute(flags.update().where(flags.c.rule_id == rule_id).values(message_id=template))


def downgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_column("message_id")
