"""A fresh clone passes its own tests: no tracked file reads data from outside the repository, and
every fixture the tests name is in tests/fixtures, tracked, and described in its README.

What counts as reaching outside (each pattern is written so that this file does not match itself):

- the programme's shared folder beside the repository, by a relative path (dot-dot, then
  ``shared``) or by its absolute one on the development machine (``work``, then ``shared``);
- ``Path(__file__).parents[N]`` (or a chain of ``.parent``) climbing above the repository root;
- an absolute path under a personal or workspace root: ``/home``, ``/root``, ``/work``, ``/mnt``,
  ``/media``, ``/data``, ``/srv``, ``/shared``, ``/scratch``, ``/nfs``, ``/Users`` (or a Windows
  ``C:\\Users``). A clone on another machine has none of them.

Allowed, because they are the operating system's and not data of ours: ``/usr`` (``/usr/bin/chromium``
for the browser test, ``/usr/share/fonts`` for the bulletin PDF), ``/etc`` (``/etc/postgresql``
where ``scripts/test`` finds the server), ``/tmp`` (scratch files in examples), ``/var/lib`` and
``/opt`` (where the README's production example installs), ``/dev``, ``/proc``, ``/sys`` and
``/run``. Web routes such as ``/work-plan`` or ``/api/v1/pilots`` are not file paths: a root only
counts when a further ``/`` follows it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".py", ".md", ".sh", ".toml", ".ini", ".cfg", ".html", ".txt", ".yml", ".yaml"}
TEXT_FOLDERS = ("scripts/", ".ci/")  # executables without a suffix

SHARED = "sha" + "red"  # the needles are assembled, so this file is scanned like every other
PERSONAL_ROOTS = "home|root|work|mnt|media|data|srv|scratch|nfs|Users|" + SHARED
OUTSIDE = [
    ("the shared folder beside the repository", re.compile(r"\.\.[/\\]+" + SHARED + r"\b")),
    ("the shared folder's absolute path", re.compile(r"/work/+" + SHARED + r"\b")),
    (
        "a parents[...] path into the shared folder",
        re.compile(r"parents\[\d+\]\s*/\s*[\"']" + SHARED + "[\"']"),
    ),
    ("an absolute path outside the repository", re.compile(rf"(?<![\w.~/\\-])/(?:{PERSONAL_ROOTS})/+[\w.-]")),
    ("a Windows user folder", re.compile(r"\b[A-Za-z]:[\\/]+Users[\\/]")),
]
PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent\b)+)")


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in result.stdout.decode("utf-8").split("\0") if name]


def text_files() -> list[str]:
    names = [
        name
        for name in tracked_files()
        if Path(name).suffix in TEXT_SUFFIXES or name.startswith(TEXT_FOLDERS)
    ]
    return [name for name in names if (ROOT / name).is_file()]  # deleted in the work tree: not ours to judge


def escapes(name: str, line: str) -> list[str]:
    """Why this line of the file ``name`` (relative to the root) reaches outside the repository."""
    found = [what for what, pattern in OUTSIDE if pattern.search(line)]
    depth = len(Path(name).parts)  # parents[depth - 1] is the root; parents[depth] is above it
    if any(int(n) >= depth for n in PARENTS.findall(line)):
        found.append("parents[...] above the repository root")
    if any(chain.count(".parent") > depth for chain in PARENT_CHAIN.findall(line)):
        found.append(".parent chain above the repository root")
    return found


def test_the_repository_is_a_git_checkout_with_files() -> None:
    names = tracked_files()
    assert "README.md" in names and "pyproject.toml" in names and "tests/fixtures/README.md" in names


def test_no_tracked_file_reads_data_from_outside_the_repository() -> None:
    offending = []
    for name in text_files():
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary despite its name: nothing a path can hide in that we would read
        for number, line in enumerate(text.splitlines(), start=1):
            offending += [f"{name}:{number}: {why}: {line.strip()[:120]}" for why in escapes(name, line)]
    assert not offending, "\n".join(offending)


# The examples are assembled too: written out, the bad ones would make this file fail its own scan.
_UP, _WORK, _FILE = ".." + "/", "/" + "work" + "/", "Path(__" + "file__)"


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tests/test_x.py", f'SAMPLE = {_FILE}.resolve().parents[2] / "{SHARED}" / "reference"'),
        ("tests/test_x.py", f'SAMPLE = {_FILE}.resolve().parents[2] / "elsewhere" / "x.csv"'),
        ("bench/x.py", f"ROOT = {_FILE}" + ".parent" * 3),
        ("README.md", f"default: the sample in `{_UP}{SHARED}/reference/`"),
        ("scripts/demo", f"cp {_WORK}{SHARED}/reference/cities.csv var/"),
        ("tests/test_x.py", f'open("{_WORK}main/tests/fixtures/claims_sample.csv")'),
        ("tests/test_x.py", 'Path("/' + 'home/alice/claims.csv")'),
        ("docs/X.md", "read `/" + "data/claims/2026.csv` first"),
        ("tests/test_x.py", r'Path("C:\\' + r'Users\\alice\\claims.csv")'),
    ],
)  # fmt: skip
def test_paths_outside_are_recognised(name: str, line: str) -> None:
    assert escapes(name, line)


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tests/test_x.py", f'ROOT = {_FILE}.resolve().parents[1] / "docs" / "RULES.md"'),
        ("bench/x.py", f"CACHE = {_FILE}.resolve().parents[1] / 'var' / 'bench'"),
        ("tests/test_x.py", f"FIXTURES = {_FILE}.resolve().parent / 'fixtures'"),
        ("tests/fixtures/__init__.py", f"FIXTURES = {_FILE}.resolve().parent.parent"),
        ("scripts/test", 'CHROMIUM="/usr/bin/chromium"'),
        ("scripts/_setup.sh", "ls /etc/postgresql/*/main"),
        ("README.md", "scripts/mail_sink.py --port 8025 --dir /tmp/cfp-mail &"),
        ("README.md", "export TRACKER_INSTANCE_DIR=/var/lib/cfp; /opt/cfp/.venv/bin/tracker init"),
        ("dashboards/pages/work_plan.py", 'PATH = "/work-plan"'),
        ("README.md", "curl http://127.0.0.1:8050/api/v1/pilots/1/updates/2026-11"),
        ("README.md", "the page (`/home`) and https://example.org/home/page"),
        ("dashboards/errors.py", "# regulator data stays out of shared caches"),
    ],
)  # fmt: skip
def test_system_paths_routes_and_the_repository_itself_are_allowed(name: str, line: str) -> None:
    assert escapes(name, line) == []


# --- fixtures ---------------------------------------------------------------------------------------

FIXTURE_USE = re.compile(r"FIXTURES\s*/\s*[\"']([^\"']+)[\"']")
FIXTURE_PATH = re.compile(r"tests/fixtures/([\w.-]+\.\w+)")


def named_fixtures() -> dict[str, set[str]]:
    """Every fixture file a tracked file names (``FIXTURES / "x"`` or ``tests/fixtures/x``), and where."""
    found: dict[str, set[str]] = {}
    for name in text_files():
        if name.startswith("tests/fixtures/") or name == "tests/core/test_self_contained.py":
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for fixture in [*FIXTURE_USE.findall(text), *FIXTURE_PATH.findall(text)]:
            found.setdefault(fixture, set()).add(name)
    return found


def fixture_files() -> list[str]:
    prefix = "tests/fixtures/"
    return [name.removeprefix(prefix) for name in tracked_files() if name.startswith(prefix)]


def test_the_tests_name_their_fixtures() -> None:
    named = named_fixtures()
    assert {"annex1_sample.xlsx", "claims_sample.csv", "claims_sample_labels.csv", "products.csv",
            "electricity_factors.csv"} <= set(named)  # fmt: skip
    assert any(where.startswith("bench/") for where in named["claims_sample.csv"])  # the bench reads it here


def test_every_fixture_named_is_here_and_tracked() -> None:
    tracked = set(fixture_files())

    def here(fixture: str) -> bool:  # a tracked file, or a folder of tracked files (pact/)
        if (FIXTURES / fixture).is_dir():
            return any(name.startswith(f"{fixture}/") for name in tracked)
        return fixture in tracked and (FIXTURES / fixture).is_file()

    missing = {f"{fixture} (named in {', '.join(sorted(where))})"
               for fixture, where in named_fixtures().items() if not here(fixture)}  # fmt: skip
    assert not missing, "fixtures named but not in tests/fixtures or not tracked by git: " + "; ".join(
        sorted(missing)
    )


def test_every_fixture_is_described_in_its_readme() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    files = set(fixture_files()) - {"README.md"}
    assert files - listed == set(), "fixtures without a row in tests/fixtures/README.md"
    assert listed - files == set(), "rows of tests/fixtures/README.md without a tracked file"
