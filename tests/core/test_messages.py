"""One message mechanism (issue 19, point 4): a message is an id and parameters, rendered when shown
in the reader's language; errors, problems and flags carry one."""

from __future__ import annotations

import datetime as dt

from tracker.claims.rules import RULES
from tracker.core.errors import TrackerError
from tracker.core.i18n import _, format_date, use_locale
from tracker.core.messages import Day, InLocale, Joined, Label, Lines, Listed, Message
from tracker.core.validation import Problem, ValidationFailed
from tracker.models import Flag


def test_a_message_is_rendered_in_the_locale_it_is_shown_in() -> None:
    message = Message("缺少必填列：{missing}", missing=Listed([Label("产品名称", "product"), "unit"]))
    assert message.zh == "缺少必填列：产品名称、unit"
    assert message.en == "missing columns: product, unit"
    with use_locale("en"):
        assert str(message) == message.en
    assert str(message) == message.zh  # the default locale outside a request


def test_an_unknown_id_falls_back_to_its_chinese_source() -> None:
    assert Message("只有中文的{x}", x=1).en == "只有中文的1"


def test_dates_and_nested_messages_follow_the_locale() -> None:
    message = Message("{period}的填报已于{day}截止，如需补报请联系省厅开放例外",
                      period=Label("2026年10月", "October 2026"), day=Day(dt.date(2026, 11, 10)))  # fmt: skip
    assert message.zh == "2026年10月的填报已于2026年11月10日截止，如需补报请联系省厅开放例外"
    assert message.en == "Entry for October 2026 closed on Nov 10, 2026; ask the province for an exception"


def test_an_error_carries_its_message_and_prints_both_languages() -> None:
    error = TrackerError(Message("文件为空"))
    assert (error.message_zh, error.message_en) == ("文件为空", "The file is empty")
    assert str(error) == "文件为空 / The file is empty"


def test_a_refused_input_lists_its_problems_in_one_language_at_a_time() -> None:
    problems = [Problem("file", Message("文件为空"), row=2, column="C"), Problem("pilot", Message("必填"))]
    error = ValidationFailed(problems)
    assert error.message.zh == "第2行 C列 文件：文件为空；试点：必填"
    assert error.message.en == "row 2, column C, file: The file is empty; pilot: required"


def test_a_flag_is_rendered_from_its_rule_and_evidence_when_shown() -> None:
    rule = next(r for r in RULES if r.id == "CERTIFIED_WITHOUT_CERTIFICATE")
    flag = Flag(rule_id=rule.id, message_id=rule.message, evidence={"label_type": "third_party"},
                message_zh="scan-time text", message_en="scan-time text")  # fmt: skip
    zh, en = flag.message.text("zh_CN"), flag.message.text("en")
    assert zh == "标识类型为第三方认证但没有证书编号"  # the stored value shown by its label
    assert (
        "third_party" not in en
        and "certificate number" in en
        and not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    ), en


def test_a_flag_recorded_before_message_ids_shows_its_scan_texts() -> None:
    flag = Flag(rule_id="RETIRED", message_id=None, evidence={}, message_zh="旧文字", message_en="old text")
    assert (flag.message.text("zh_CN"), flag.message.text("en")) == ("旧文字", "old text")


def test_joined_uses_each_languages_separator() -> None:
    joined = Joined([Message("文件为空"), Message("必填")])
    assert joined.text("zh_CN") == "文件为空；必填" and joined.text("en") == "The file is empty; required"


def test_a_stored_message_reads_back_with_its_parameters_kinds() -> None:
    """A message kept in the database (a job run's outcome) is JSON: it reads back as the same
    message, rendered in each language; a shown thing of another kind keeps its two texts."""
    from tracker.core.messages import from_data, stored_message, to_data
    from tracker.models.labels import finding_message

    message = Message("{period}：{names}于{day}；{parts}{n}", period=Label("2026年11月", "November 2026"),
                      names=Listed([Label("太原", "Taiyuan"), "某企业"]), day=Day(dt.date(2026, 11, 3)),
                      parts=Joined([Message("完好")]), n=3)  # fmt: skip
    data = to_data(message)
    import json

    back = stored_message(json.loads(json.dumps(data, ensure_ascii=False)))
    assert back is not None and back.zh == message.zh and back.en == message.en
    assert back.zh == "2026年11月：太原、某企业于2026年11月3日；完好3"
    flag = finding_message("声明单位为{declared_unit}", {"declared_unit": "kg"})  # a unit shown by its word
    kept = stored_message(to_data(flag))
    assert kept is not None and kept.zh == flag.zh == "声明单位为千克" and kept.en == flag.en
    assert from_data({"unexpected": 1}) == "{'unexpected': 1}" and stored_message("text") is None


def test_lines_keep_empty_lines_and_leave_out_none_in_one_locale() -> None:
    body = Lines(Message("理由：{reason}", reason="数据已核实"), None, "", Message("请登录平台处理。"))
    assert body.text("zh_CN") == "理由：数据已核实\n\n请登录平台处理。"
    assert body.text("en").startswith("Reason: 数据已核实\n\n") and body.text("en") != body.text("zh_CN")


def test_text_built_in_the_current_locale_is_built_in_the_locale_it_is_shown_in() -> None:
    day = dt.date(2025, 6, 28)
    shown = InLocale(lambda: _("印发日期：{day}").format(day=format_date(day)))
    assert shown.text("zh_CN") == "印发日期：2025年6月28日"
    assert shown.text("en") == "Issued on: Jun 28, 2025"
    with use_locale("en"):  # the request's locale does not leak into a mail written in Chinese
        assert shown.text("zh_CN") == "印发日期：2025年6月28日"


def test_only_the_parameters_a_template_shows_are_rendered() -> None:
    """A finding's evidence holds more than its template shows (ids, versions, the other claims): those
    are not rendered at all, in either language; formatted and indexed fields still are."""

    class Counted:
        calls = 0

        def text(self, locale: str | None = None) -> str:
            Counted.calls += 1
            return "shown"

    message = Message("{share:.1f}：{who}", share=12.345, who=Counted(), unused=Counted())
    assert message.text("zh_CN") == "12.3：shown" and Counted.calls == 1
    assert Message("{a[0]}", a=["x"]).text("zh_CN") == "x"
    assert Message("{n:>{width}}|{{literal}}", n=7, width=3).text("zh_CN") == "  7|{literal}"
