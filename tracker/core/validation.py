"""Validation shared by every input path: a problem with where and why, the refusal that lists them
all, and the text hygiene every form and import applies (trimming, control characters)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracker.core.errors import TrackerError

_SPACES = re.compile(r"[\s\u3000\u00a0]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (field, and for Excel the row and column) and why."""

    field: str
    message_zh: str
    message_en: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None  # for workbooks of several sheets

    def where_zh(self) -> str:
        spot = f"第{self.row}行 {self.column}列 " if self.row is not None and self.column else ""
        sheet = f"“{self.sheet}”表 " if self.sheet else ""
        return f"{sheet}{spot}{_label_zh(self.field)}"

    def where_en(self) -> str:
        spot = f"row {self.row}, column {self.column}, " if self.row is not None and self.column else ""
        sheet = f"sheet “{self.sheet}”, " if self.sheet else ""
        return f"{sheet}{spot}{_label_en(self.field)}"

    def text(self) -> str:
        """Both languages on one line (the CLI's form)."""
        return f"{self.where_zh()}：{self.message_zh} / {self.where_en()}: {self.message_en}"


# Field names as people read them, by key: the generic ones here; each form registers its own
# (``tracker.lifecycle.applications`` adds the application's fields).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "category": ("试点类别", "category"), "product": ("试点产品", "product"),
    "milestones": ("阶段性目标", "milestones"), "participants": ("职责分工", "responsibilities"),
    "file": ("文件", "file"), "tasks": ("任务进度", "task progress"), "work_done": ("本期工作进展", "work done"),
    "problems": ("存在问题", "problems"), "next_steps": ("下步计划", "next steps"), "pilot": ("试点", "pilot"),
    "period": ("报告期", "period"), "version": ("版本", "version"), "progress": ("完成进度", "progress"),
}  # fmt: skip


def _label_zh(key: str) -> str:
    return FIELD_LABELS.get(key, (key, key))[0]


def _label_en(key: str) -> str:
    return FIELD_LABELS.get(key, (key, key))[1]


class ValidationFailed(TrackerError):
    """Input refused; ``problems`` lists every reason. Nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "；".join(f"{p.where_zh()}：{p.message_zh}" for p in problems),
            "; ".join(f"{p.where_en()}: {p.message_en}" for p in problems),
        )


def clean_text(value: Any) -> str:
    """Trim half- and full-width spaces at both ends; numbers typed as numbers become their digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").strip(" \t\n\r\u3000\u00a0")


CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
_CONTROL = re.compile(CONTROL_PATTERN)
CONTROL_ZH = "含有控制字符（如 NUL），无法保存，请删除后重新填写"
CONTROL_EN = "contains control characters (such as NUL) that cannot be stored"


def has_control_characters(text: str) -> bool:
    """NUL and the other C0 controls but tab and line breaks, DEL, or a lone surrogate: text that
    PostgreSQL cannot store or a bulletin cannot print, refused in every import and form."""
    return _CONTROL.search(text) is not None


def squeeze(value: Any) -> str:
    """All whitespace removed: for matching category and product names and header captions."""
    return _SPACES.sub("", clean_text(value))


def count_chars(text: str) -> int:
    """Characters as the notice counts them: one per character, Chinese or not."""
    return len(text)
