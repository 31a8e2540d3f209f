"""Every setting and every command is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tracker.core.config import SETTING_NAMES
from tracker_cli.main import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "tracker") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        paths += command_paths(command, path) if isinstance(command, click.Group) else [path]
    return paths


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("path", command_paths(cli))
def test_every_command_is_in_the_readme(path: str) -> None:
    assert f"`{path}" in README


def test_every_command_has_bilingual_help() -> None:
    for path in command_paths(cli):
        command: click.Command = cli
        for part in path.split()[1:]:
            assert isinstance(command, click.Group)
            command = command.commands[part]
        assert command.help and " / " in command.help, path


# --- docs/DOMAIN.md agrees with what the code accepts ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = (ROOT / "docs" / "DOMAIN.md").read_text(encoding="utf-8")


def section(number: int) -> str:
    """The text of DOMAIN.md's section ``## N. …`` up to the next section."""
    parts = [part for part in DOMAIN.split("\n## ") if part.startswith(f"{number}. ")]
    assert len(parts) == 1, f"DOMAIN.md has no single section {number}"
    return parts[0]


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text`` (header and separator rows included)."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]  # fmt: skip


def rows_naming(text: str, key: str) -> list[list[str]]:
    return [row for row in table_rows(text) if f"`{key}`" in " ".join(row)]


def test_every_claims_column_is_documented_once_with_whether_it_is_required() -> None:
    from tracker.claims.exchange import OPTIONAL, REQUIRED

    rows = {row[0].strip("`"): row for row in table_rows(section(9)) if row[0].startswith("`")}
    assert set(rows) == set(REQUIRED) | set(OPTIONAL), (
        "the §9 table lists other columns than tracker/claims/registry.py"
    )
    for column, row in rows.items():
        assert row[1] == ("yes" if column in REQUIRED else "no"), column


def test_every_claims_value_synonym_and_text_limit_is_documented() -> None:
    from tracker.claims.exchange import BOUNDARIES, LABELS, TEXTS, UNITS
    from tracker.claims.pact import PACT_UNITS

    text = section(9).lower()
    missing = [
        value for value in [*UNITS, *BOUNDARIES, *LABELS, *PACT_UNITS] if f"`{value.lower()}`" not in text
    ]
    assert not missing, f"accepted values missing from docs/DOMAIN.md §9: {missing}"
    for column, limit in TEXTS.items():
        (row,) = rows_naming(section(9), column)[:1]
        assert f"≤ {limit} characters" in row[3], column


def test_every_claims_header_synonym_is_documented_in_its_columns_row() -> None:
    from tracker.claims.exchange import HEADERS

    rows = {row[0].strip("`"): row for row in table_rows(section(9)) if row[0].startswith("`")}
    missing = {
        column: [n for n in names if f"`{n}`" not in rows[column][-1]] for column, names in HEADERS.items()
    }
    assert {column: names for column, names in missing.items() if names} == {}


def test_every_pact_field_the_importer_reads_is_documented() -> None:
    import inspect

    import tracker.claims.pact

    source = inspect.getsource(tracker.claims.pact)
    fields = set(re.findall(r"[\"']([a-z]+[A-Z][A-Za-z]*)[\"']", source))
    assert {"companyIds", "pcfExcludingBiogenicUptake", "declaredUnit"} <= fields  # the pattern finds them
    missing = sorted(
        name for name in fields if f"`{name}`" not in section(9) and f".{name}`" not in section(9)
    )
    assert not missing, f"PACT fields read but not in docs/DOMAIN.md §9: {missing}"


def test_every_application_field_is_documented_with_its_limit_and_whether_it_is_required() -> None:
    from tracker.lifecycle.applications import FIELDS

    forms = section(4)
    for spec in FIELDS:
        rows = rows_naming(forms, spec.key)
        assert rows, f"{spec.key} is not in docs/DOMAIN.md §4"
        for row in rows:
            assert str(spec.limit) in " ".join(row), spec.key
            if spec.required:
                assert row[-1] == "yes", spec.key
            else:
                assert row[-1] != "yes", spec.key


def test_the_forms_header_words_and_labels_are_documented() -> None:
    from tracker.lifecycle.forms import FORM_LABELS, PERSON_FIELDS, PERSON_LABELS, SUMMARY_COLUMNS

    forms = section(4)
    for key, words in SUMMARY_COLUMNS:
        row = next(row for row in table_rows(forms) if row[0] == "序号") if key == "serial" else None
        row = row or rows_naming(forms, key)[0]
        assert all(word in row[2] for word in words), key
    assert [label for label in [*FORM_LABELS, *PERSON_LABELS, *PERSON_FIELDS] if label not in forms] == []


def test_the_standard_tasks_deadlines_and_reporting_defaults_are_documented() -> None:
    from tracker.catalogue import read_rows
    from tracker.core.periods import Reporting

    tasks = {(row[0], row[1]): row for row in table_rows(section(5))}
    for template in read_rows("task_templates.csv"):
        row = tasks[(template["category"], template["number"])]
        assert row[2].startswith(template["title_zh"]) and row[3] == template["default_weight"], template
    deadlines = section(3)
    for batch in read_rows("batches.csv"):
        assert batch["provincial_deadline"] in deadlines
    for city in read_rows("city_deadlines.csv"):
        assert city["deadline"] in deadlines
    reporting = section(7)
    assert f"N = {Reporting().due_days}" in reporting and f"M = {Reporting().window_days}" in reporting


def test_links_into_domain_md_name_its_sections() -> None:
    """Every ``DOMAIN.md#anchor`` link in the README and docs points at a heading of docs/DOMAIN.md
    (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens)."""
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", DOMAIN, flags=re.MULTILINE)
    }
    links = {}
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for anchor in re.findall(r"DOMAIN\.md#([^)\s]+)", path.read_text(encoding="utf-8")):
            links[anchor] = path.name
    assert links, "the README links to docs/DOMAIN.md sections"
    assert {anchor: where for anchor, where in links.items() if anchor not in anchors} == {}
    assert "(docs/DOMAIN.md)" in README
