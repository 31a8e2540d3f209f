"""Unified social credit code (统一社会信用代码) validation per GB 32100-2015.

The 18 characters are: registering authority (1) · organisation type (1) · division code of the
registering authority (6, GB/T 2260) · organisation code (9, GB 11714, with its own check character)
· check character (1). Characters I, O, S, V and Z are never used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.core.messages import Message

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
# Registering authority → organisation types it may issue (GB 32100-2015 表1).
_AUTHORITY_TYPES = {
    "1": "123", "2": "19", "3": "12345", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "129", "9": "123", "A": "19", "N": "1239", "Y": "1",
}  # fmt: skip
_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class CreditCodeCheck:
    """The outcome: ``problems`` make the code unusable; ``cautions`` deserve a look. Each is a
    ``Message``, shown in the reader's language (``errors`` and ``warnings``: their Chinese texts)."""

    code: str
    problems: list[Message] = field(default_factory=list)
    cautions: list[Message] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> list[str]:
        return [problem.zh for problem in self.problems]

    @property
    def warnings(self) -> list[str]:
        return [caution.zh for caution in self.cautions]


def normalise_credit_code(raw: str) -> str:
    """Upper-case and drop half- and full-width spaces (codes are often typed with them)."""
    return _SPACES.sub("", raw).upper().translate(str.maketrans("０１２３４５６７８９", "0123456789"))


def check_character(first17: str) -> str:
    """The 18th character for the first seventeen (GB 32100-2015 §5)."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check_character(first8: str) -> str:
    """The check character of the 9-character organisation code (GB 11714-1997)."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_credit_code(raw: str, city_code: str | None = None) -> CreditCodeCheck:
    """Check a code; with ``city_code`` (e.g. ``140400``) also compare the registering division."""
    code = normalise_credit_code(raw)
    errors = _format_errors(code)
    if errors:
        return CreditCodeCheck(code, errors)
    expected = check_character(code[:17])
    if code[17] != expected:
        return CreditCodeCheck(code, [Message("校验位错误：应为 {expected}，实为 {actual}", expected=expected,
                                              actual=code[17])])  # fmt: skip
    warnings = _structure_warnings(code)
    if city_code:
        warnings += _division_warnings(code, city_code)
    return CreditCodeCheck(code, [], warnings)


def _format_errors(code: str) -> list[Message]:
    if len(code) != 18:
        return [Message("长度应为18位，实为{length}位", length=len(code))]
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        return [Message("含有不允许的字符：{chars}（不使用 I、O、S、V、Z）", chars="、".join(bad))]
    if not code[2:8].isdigit():
        return [Message("第3–8位应为行政区划代码（6位数字）")]
    return []


def _structure_warnings(code: str) -> list[Message]:
    warnings = []
    types = _AUTHORITY_TYPES.get(code[0])
    if types is None:
        warnings.append(Message("第1位登记管理部门代码 {authority} 不在国家标准表中", authority=code[0]))
    elif code[1] not in types:
        warnings.append(Message("第2位机构类别代码 {kind} 与登记管理部门 {authority} 不匹配", kind=code[1],
                                authority=code[0]))  # fmt: skip
    org = code[8:17]
    if org[:8].isalnum() and all(c in _VALUES for c in org[:8]):
        expected = organisation_check_character(org[:8])
        if org[8] != expected:
            warnings.append(Message("第9–17位组织机构代码的校验码应为 {expected}，实为 {actual}", expected=expected,
                                    actual=org[8]))  # fmt: skip
    return warnings


def _division_warnings(code: str, city_code: str) -> list[Message]:
    division = code[2:8]
    if division[:2] != city_code[:2]:
        return [
            Message(
                "登记地行政区划 {division} 不属于所填城市（{city}）所在省份",
                division=division,
                city=city_code,
            )
        ]
    if division[2:4] == "00":
        return []  # registered at provincial level: says nothing about the city
    if division[:4] != city_code[:4]:
        return [
            Message("登记地行政区划 {division} 与所填城市（{city}）不一致", division=division, city=city_code)
        ]
    return []
