"""The English switch (issue 7, point 4): a complete catalogue, text translated when shown (never
at import), the switch itself, and every page of the demo rendered in English without a Chinese
interface string left in it."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from sqlalchemy import String, Text, select

from dashboards.app import PAGES
from dashboards.language import COOKIE
from tests.web import call_callback, login
from tracker.core.db import Base
from tracker.core.i18n import (
    DEFAULT_LOCALE,
    LOCALES,
    _,
    catalogue,
    current_locale,
    format_date,
    format_number,
    use_locale,
)
from tracker.demo.province import DEMO_PASSWORD, build_demo
from tracker.models import Pilot

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\{[^}]*\}|<[^>]+>")
HAN = re.compile(r"[\u4e00-\u9fff]")


def marked_strings() -> set[str]:
    """What pybabel would extract with the project's babel.cfg (``_`` and ``N_``, templates too)."""
    method_map = [("dashboards/**.py", "python"), ("tracker/**.py", "python"), ("jobs/**.py", "python"), ("reports/**.py", "python"), ("tracker_cli/**.py", "python"),
                  ("dashboards/templates/**.html", "jinja2")]  # fmt: skip
    found = extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "N_": None, "Message": None}, comment_tags=()
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def test_every_marked_string_has_an_english_translation_with_the_same_placeholders() -> None:
    english = catalogue("en")
    marked = marked_strings()
    missing = sorted(marked - english.keys())
    assert not missing, f"{len(missing)} strings have no English translation: {missing[:10]}"
    wrong = [k for k in marked if sorted(PLACEHOLDER.findall(k)) != sorted(PLACEHOLDER.findall(english[k]))]
    assert not wrong, f"placeholders differ: {wrong[:10]}"
    chinese = [k for k in marked if HAN.search(english[k])]
    assert not chinese, f"translations still in Chinese: {chinese[:10]}"
    assert len(marked) > 600  # the extraction really read the code


def literal_ids() -> dict[str, str]:
    """Every string literal given as the first argument of ``_``, ``N_`` or ``Message`` in the five
    packages (read with ``ast``, not babel), with where it is."""
    found: dict[str, str] = {}
    for package in ("tracker", "dashboards", "jobs", "reports", "tracker_cli"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in {"_", "N_", "Message"} and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):  # fmt: skip
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_extraction_misses_no_message_in_the_code() -> None:
    """babel's extractor skips some nested calls (a ``Message`` inside another function's arguments
    inside a ``Message``): such an id would be shown in Chinese to an English reader."""
    marked, english = marked_strings(), catalogue("en")
    missed = {
        text: where for text, where in literal_ids().items() if text not in marked and text not in english
    }
    assert not missed, f"not extracted, so never translated: {missed}"


def test_no_text_is_translated_at_import_time() -> None:
    """``_()`` outside a function runs once, in whatever language the process started with."""
    offenders = []
    for path in [
        *ROOT.glob("dashboards/**/*.py"),
        *ROOT.glob("tracker/**/*.py"),
        *ROOT.glob("jobs/**/*.py"),
        *ROOT.glob("reports/**/*.py"),
    ]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "label"}
            ):
                scope = parents.get(node)
                while scope is not None and not isinstance(
                    scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                ):
                    scope = parents.get(scope)
                if scope is None:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"translated at import (mark with N_ and translate where shown): {offenders}"


def test_dates_and_numbers_follow_the_locale() -> None:
    day = dt.date(2025, 6, 28)
    assert format_date(day) == "2025年6月28日" and format_number(1234567.891, 1) == "1,234,567.9"
    with use_locale("en"):
        assert format_date(day) == "Jun 28, 2025" and _("风险线索") == "Risk flags"
        assert format_number(1234567.891, 1) == "1,234,567.9"
    assert current_locale.get() == DEFAULT_LOCALE and _("风险线索") == "风险线索"


def test_the_switch_sets_a_cookie_and_goes_back_to_the_same_page_on_this_site_only(client) -> None:  # type: ignore[no-untyped-def]
    back = client.get("/lang/en", headers={"Referer": "http://localhost/pilots?city=140100"})
    assert back.status_code == 303 and back.headers["Location"] == "/pilots?city=140100"
    assert f"{COOKIE}=en" in back.headers["Set-Cookie"] and "HttpOnly" in back.headers["Set-Cookie"]
    assert client.get("/lang/en", headers={"Referer": "https://evil.example/x"}).headers["Location"] == "/"
    assert client.get("/lang/xx").status_code == 404
    login_page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in login_page and "Password" in login_page and "中文" in login_page
    client.get("/lang/zh_CN")
    login_page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in login_page and "密码" in login_page and "English" in login_page


@pytest.fixture
def demo(db) -> None:  # type: ignore[no-untyped-def]
    build_demo(db)
    db.commit()


INTERFACE_PROPS = {"headerName", "placeholder"}  # never data: must be in the reader's language


def _strings(tree: Any, key: str = "") -> list[tuple[str, str]]:
    """Every text in a rendered tree, with the property it is the value of."""
    if isinstance(tree, str):
        return [(key, tree)]
    if isinstance(tree, dict):
        return [pair for k, value in tree.items() for pair in _strings(value, k)]
    if isinstance(tree, list):
        return [pair for value in tree for pair in _strings(value, key)]
    return []


def _untranslated(tree: Any) -> list[str]:
    """Interface strings left in Chinese: a text that is a catalogue source or holds a long one, and
    any Chinese in a column header or placeholder. (Data — company, pilot, city and task names,
    stored messages — stays as it was entered.)"""
    sources = set(catalogue("en"))
    long_sources = [s for s in sources if len(s) >= 6 and not PLACEHOLDER.search(s)]
    return sorted({
        text for key, text in _strings(tree)
        if text in sources or any(source in text for source in long_sources)
        or (key in INTERFACE_PROPS and HAN.search(text))
    })  # fmt: skip


# Chinese characters and punctuation (、。「」, full-width ：；（）, the ideographic space).
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Catalogue names that have an English name: an English page shows that, never the Chinese.
NAMED_IN_ENGLISH = {"cities": {"name_zh", "short_zh"}, "provinces": {"name_zh", "short_zh"}, "products": {"name_zh"},
                    "batches": {"name_zh"}}  # fmt: skip
# Data callbacks whose answers an English reader sees (the grids filled after the page arrives).
DATA_CALLBACKS = [
    "registry-grid",
    "upd-grid",
    "flg-grid",
    "ntc-grid",
    "plist-grid",
    "apps-grid",
    "apps-quota-grid",
    "lib-benchmarks",
    "lib-factors",
]


def stored_texts(db: Any) -> list[str]:
    """Every Chinese text stored in the database, as entered (pilot, company and task names, reasons,
    milestones...), longest first: an English page shows them as they are. Catalogue names known in
    English are left out: those must be shown in English."""
    found: set[str] = set()
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)
                   and c.name not in NAMED_IN_ENGLISH.get(table.name, set())]  # fmt: skip
        if columns:
            found |= {
                v for row in db.execute(select(*columns)) for v in row if isinstance(v, str) and CJK.search(v)
            }
    return sorted(found, key=len, reverse=True)


def chinese_left(tree: Any, data: list[str]) -> list[str]:
    """Texts of a rendered tree (layout, figures, grid rows) that hold Chinese the code generated: what
    is left once the stored data they quote is taken out. The language switch names 中文 in Chinese, and
    an option's or an input's ``value`` is not shown."""
    left = set()
    for key, text in _strings(tree):
        if not CJK.search(text) or key == "value" or text in LOCALES.values():
            continue
        rest = text
        for stored in data:
            if stored in rest:
                rest = rest.replace(stored, "")
                if not CJK.search(rest):
                    break
        if CJK.search(rest):
            left.add(f"{key}: {text[:120]}")
    return sorted(left)


def grids(tree: Any) -> list[dict[str, Any]]:
    """The props of every AG Grid in a rendered tree."""
    if isinstance(tree, dict):
        here = [tree["props"]] if tree.get("type") == "AgGrid" else []
        return here + [grid for value in tree.values() for grid in grids(value)]
    if isinstance(tree, list):
        return [grid for value in tree for grid in grids(value)]
    return []


@pytest.mark.parametrize("username", ["admin", "changzhi", "lingdao"])
def test_every_page_renders_in_english_for_each_role(client, app, db, demo, username: str) -> None:  # type: ignore[no-untyped-def]
    pilot = db.scalars(select(Pilot).order_by(Pilot.id)).first()
    login(client, username, DEMO_PASSWORD)
    client.get("/lang/en")
    shell = client.get("/_dash-layout").get_json()
    assert "English" not in json.dumps(shell) and "中文" in json.dumps(shell, ensure_ascii=False)
    assert not _untranslated(shell)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    data = stored_texts(db)
    rendered = 0
    for page in PAGES:
        search = f"?id={pilot.id}" if page.PATH == "/pilot" else ""
        answer = call_callback(client, app, "_pages_content",
                               {"_pages_location.pathname": page.PATH, "_pages_location.search": search})  # fmt: skip
        assert answer.status_code == 200, page.PATH
        tree = answer.get_json()["response"]
        assert not _untranslated(tree), (page.PATH, _untranslated(tree)[:8])
        assert not chinese_left(tree, data), (page.PATH, chinese_left(tree, data)[:8])
        for grid in grids(tree):  # AG Grid's own words in English: its defaults, no Chinese table
            assert not CJK.search(
                json.dumps(grid["dashGridOptions"].get("localeText"), ensure_ascii=False)
            ), page.PATH
        rendered += 1
    assert rendered == len(PAGES)
    figures = call_callback(client, app, "ov-cards", {}).get_json()["response"]  # the overview's figures
    assert not _untranslated(figures), _untranslated(figures)[:8]
    assert not chinese_left(figures, data), chinese_left(figures, data)[:8]
    for output in DATA_CALLBACKS:
        answer = call_callback(client, app, output, {})
        if answer.status_code == 200:  # a role that may not read a page gets no data from it
            assert not chinese_left(answer.get_json(), data), (
                output,
                chinese_left(answer.get_json(), data)[:8],
            )
    client.get("/lang/zh_CN")
    assert (
        "风险线索" in json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
        or username == "lingdao"
    )


def test_ag_grid_asks_for_no_word_the_chinese_table_lacks_and_english_uses_its_own() -> None:
    """AG Grid's own words (paging, filters, the aria strings such as "Press SPACE to deselect this
    row") come from ``localeText``: every word the shipped grid asks for by key, with its English
    default, is in the Chinese table, and an English reader's grid gets no Chinese table at all."""
    import dash_ag_grid

    from dashboards.grid import locale_text

    bundle = (Path(dash_ag_grid.__file__).parent / "dash_ag_grid.min.js").read_text(encoding="utf-8")
    # getLocaleTextFunc()(key, default): a default that is text (a capital first, or a space), not a DOM word
    asked = {key for key, default in re.findall(r'\(\s*"([a-z][A-Za-z0-9]{3,})"\s*,\s*["`]([^"`]*)["`]', bundle)
             if re.search(r"^[A-Z]|\s", default)}  # fmt: skip
    asked |= set(
        re.findall(r'\?\s*"(aria[A-Za-z]+)"\s*:\s*"(aria[A-Za-z]+)"', bundle)[0]
    )  # (de)select this row
    assert len(asked) > 40 and {"ariaRowDeselect", "ariaRowSelect", "noRowsToShow"} <= asked
    chinese = locale_text()
    assert not asked - chinese.keys(), sorted(asked - chinese.keys())
    assert chinese["ariaRowDeselect"] == "按 SPACE 取消选择此行"
    assert all(CJK.search(chinese[key]) for key in asked)  # each in Chinese, not an English default
    with use_locale("en"):
        assert locale_text() == {}  # AG Grid's English defaults
