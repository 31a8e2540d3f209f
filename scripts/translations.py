"""Bring the English catalogue up to date with the code, and say what still needs translating.

    .venv/bin/python scripts/translations.py            # extract, merge, list untranslated (exit 1 if any)
    .venv/bin/python scripts/translations.py --fill F   # also take translations from F (JSON: source → English)

Extraction reads what ``babel.cfg`` names (``_()`` and ``N_()`` in Python, ``_()`` in templates).
New strings are added with an empty translation, strings gone from the code are dropped, and the
file is written sorted, without line numbers, so a change shows as a small diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "tracker" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [("dashboards/**.py", "python"), ("tracker/**.py", "python"), ("jobs/**.py", "python"), ("reports/**.py", "python"), ("tracker_cli/**.py", "python"),
           ("dashboards/templates/**.html", "jinja2")]  # fmt: skip
HEADER = "# English catalogue of the dashboard's text (the source strings are Chinese).\n# Update: scripts/translations.py"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fill", type=Path, help="JSON file of translations to add (source → English)")
    args = parser.parse_args()
    template = Catalog(locale="en")
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords={"_": None, "N_": None, "Message": None}, comment_tags=()
    ):
        if isinstance(message, str):
            template.add(message, flags=("python-brace-format",) if "{" in message else ())
    with PO.open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    catalogue.update(template, no_fuzzy_matching=True)
    catalogue.obsolete.clear()
    extra = json.loads(args.fill.read_text(encoding="utf-8")) if args.fill else {}
    for message in catalogue:
        if message.id and message.id in extra:
            message.string = extra[message.id]
    catalogue.header_comment = HEADER
    catalogue.project, catalogue.version = "CFP Pilot Tracker", "1"
    with PO.open("wb") as handle:
        write_po(handle, catalogue, width=0, no_location=True, sort_output=True)
    missing = [m.id for m in catalogue if m.id and not m.string]
    for source in missing:
        print(f"未翻译 / untranslated: {source}")
    print(
        f"{len(list(catalogue)) - 1} 条，{len(missing)} 条未翻译 / {len(list(catalogue)) - 1} strings, {len(missing)} untranslated"
    )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
