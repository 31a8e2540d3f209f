"""Validation shared by every input path: a problem with where and why, the refusal that lists them
all, and the text hygiene every form and import applies (trimming, control characters)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.core.errors import TrackerError
from tracker.core.i18n import DEFAULT_LOCALE, current_locale
from tracker.core.messages import CarriesMessage, Joined, Message

_SPACES = re.compile(r"[\s\u3000\u00a0]+")


@dataclass(frozen=True)
class Problem(CarriesMessage):
    """One thing wrong with the input: where (field, and for Excel the row and column, for a JSON
    file the item and its id) and why."""

    field: str
    message: Message
    row: int | None = None
    column: str | None = None
    sheet: str | None = None  # for workbooks of several sheets
    item: str | None = None  # in a JSON file: the item's path (data[2]), ``field`` the item's field
    item_id: str | None = None  # … and the id it carries, if any

    def where_zh(self) -> str:
        spot = f"第{self.row}行 {self.column}列 " if self.row is not None and self.column else ""
        sheet = f"“{self.sheet}”表 " if self.sheet else ""
        return f"{sheet}{spot}{self._item_zh()}{_label_zh(self.field)}"

    def where_en(self) -> str:
        spot = f"row {self.row}, column {self.column}, " if self.row is not None and self.column else ""
        sheet = f"sheet “{self.sheet}”, " if self.sheet else ""
        return f"{sheet}{spot}{self._item_en()}{_label_en(self.field)}"

    def _item_zh(self) -> str:
        if self.item is None:
            return ""
        return f"{self.item}（id {self.item_id}）的 " if self.item_id else f"{self.item} 的 "

    def _item_en(self) -> str:
        if self.item is None:
            return ""
        return f"{self.item} (id {self.item_id}), " if self.item_id else f"{self.item}, "

    def where(self, locale: str | None = None) -> str:
        """Where, in one language (the reader's by default)."""
        chinese = (locale or current_locale.get()) == DEFAULT_LOCALE
        return self.where_zh() if chinese else self.where_en()

    def text(self, locale: str | None = None) -> str:
        """Where and why, in one language (the reader's by default)."""
        chinese = (locale or current_locale.get()) == DEFAULT_LOCALE
        return f"{self.where(locale)}{'：' if chinese else ': '}{self.message.text(locale)}"


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
        super().__init__(Message("{problems}", problems=Joined(problems)))


def clean_text(value: object) -> str:
    """Trim half- and full-width spaces at both ends; numbers typed as numbers become their digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").strip(" \t\n\r\u3000\u00a0")


CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
_CONTROL = re.compile(CONTROL_PATTERN)
CONTROL_MESSAGE = Message("含有控制字符（如 NUL），无法保存，请删除后重新填写")


def has_control_characters(text: str) -> bool:
    """NUL and the other C0 controls but tab and line breaks, DEL, or a lone surrogate: text that
    PostgreSQL cannot store or a bulletin cannot print, refused in every import and form."""
    return _CONTROL.search(text) is not None


def squeeze(value: object) -> str:
    """All whitespace removed: for matching category and product names and header captions."""
    return _SPACES.sub("", clean_text(value))


def count_chars(text: str) -> int:
    """Characters as the notice counts them: one per character, Chinese or not."""
    return len(text)
