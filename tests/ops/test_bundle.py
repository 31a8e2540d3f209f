"""The offline install (issue 23 point 1): ``scripts/bundle`` builds wheels, the Debian package list
and checksums; ``scripts/install-offline`` verifies them and installs into a fresh venv with no
index at all (and, where the test may, in a network namespace with no network). The installed
``tracker`` then runs ``--help`` and ``init``, builds the demo and serves it (login page, assets, a
demo account logged in).

The bundle is built and installed once per session (about a minute; pip's cache is used). When
``TRACKER_TEST_BUNDLE_DIR`` names a folder (``scripts/test`` sets it afresh for each run), the two
passes of ``scripts/test`` share it under a file lock: the first to get there builds, the other waits
and reuses it (and runs ``tracker init`` on its own backend). Deselect with ``-m 'not bundle'``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKEND, SQLITE_PASS, fresh_database

pytestmark = pytest.mark.bundle
# What does not depend on the database runs in the SQLite pass only (SQLITE_PASS); the PostgreSQL pass
# adds `tracker init` on PostgreSQL (with TRACKER_TEST_BUNDLE_DIR, on the venv the SQLite pass installed).

ROOT = Path(__file__).resolve().parents[2]
# Anything that still asked an index would fail: no index, and a dead one if pip looked anyway.
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/", "PIP_EXTRA_INDEX_URL": "",
           "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}  # fmt: skip


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: no tracker settings, no virtualenv, no test clock."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "PIP_")) and k not in {"PYTHONPATH", "VIRTUAL_ENV"}}  # fmt: skip
    env.update(OFFLINE)
    env.update(extra)
    return env


def _no_network_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with only a downed loopback) when this process may make one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


@dataclass(frozen=True)
class OfflineInstall:
    bundle: Path
    venv: Path
    build_seconds: float
    install_seconds: float
    isolated_network: bool


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="session")
def offline_install(tmp_path_factory: pytest.TempPathFactory) -> OfflineInstall:
    shared = os.environ.get("TRACKER_TEST_BUNDLE_DIR")
    base = Path(shared) if shared else tmp_path_factory.mktemp("offline")
    base.parent.mkdir(parents=True, exist_ok=True)
    with (base.parent / f"{base.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other pass of scripts/test may be building it now
        return _build_or_reuse(base)


def _build_or_reuse(base: Path) -> OfflineInstall:
    ready = base / "ready.json"
    if ready.exists():  # built and installed by the first pass of this scripts/test run
        info = json.loads(ready.read_text())
        return OfflineInstall(base / "bundle", base / "venv", info["build_seconds"], info["install_seconds"],
                              info["isolated_network"])  # fmt: skip
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    bundle, venv = base / "bundle", base / "venv"
    started = time.monotonic()
    built = _run(
        [str(ROOT / "scripts" / "bundle"), str(bundle)], env={**os.environ, "PYTHON": sys.executable}
    )
    assert built.returncode == 0, built.stdout + built.stderr
    build_seconds = time.monotonic() - started
    prefix = _no_network_prefix()
    started = time.monotonic()
    # The installer copied into the bundle: what an operator runs on the server. --no-compile only to
    # keep the test quick (byte-compiling the dependencies takes a minute here).
    installed = _run([*prefix, str(bundle / "install-offline"), "--no-compile", str(bundle), str(venv)],
                     env=_clean_env(PYTHON=sys.executable), cwd=base)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    install_seconds = time.monotonic() - started
    ready.write_text(json.dumps({"build_seconds": build_seconds, "install_seconds": install_seconds,
                                 "isolated_network": bool(prefix)}))  # fmt: skip
    return OfflineInstall(bundle, venv, build_seconds, install_seconds, bool(prefix))


@SQLITE_PASS
def test_the_bundle_holds_wheels_packages_and_checksums_of_everything(
    offline_install: OfflineInstall,
) -> None:
    bundle = offline_install.bundle
    wheels = sorted(p.name for p in (bundle / "wheels").iterdir())
    assert wheels and all(name.endswith(".whl") for name in wheels)
    names = {name.split("-")[0].lower() for name in wheels}
    assert {
        "cfp_pilot_tracker",
        "dash",
        "sqlalchemy",
        "psycopg_binary",
        "pyarrow",
        "gunicorn",
        "pip",
    } <= names
    assert not names & {"pytest", "playwright", "mypy", "ruff"}  # the test extra stays out

    listed = {}
    for line in (bundle / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == on_disk
    assert _run(["sha256sum", "--check", "--strict", "--quiet", "SHA256SUMS"], cwd=bundle).returncode == 0

    packages = {}
    for line in (bundle / "debian-packages.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, purpose = line.split("\t")
            packages[name] = purpose
    assert packages["python3-venv"] == "runtime" and packages["fonts-noto-cjk"] == "pdf"
    assert packages["chromium"] == "test" and packages["nginx"] == "proxy"

    info = dict(line.split("=", 1) for line in (bundle / "BUNDLE-INFO").read_text().splitlines())
    assert info["python"] == f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert (bundle / "deploy" / "tracker.env").is_file()
    assert (bundle / "deploy" / "systemd" / "cfp-tracker-web.service").is_file()
    assert (bundle / "deploy" / "nginx" / "cfp-tracker.conf").is_file()
    assert os.access(bundle / "install-offline", os.X_OK)


@SQLITE_PASS
def test_the_offline_venv_runs_tracker_from_its_own_site_packages(offline_install: OfflineInstall,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    venv = offline_install.venv
    helped = _run([str(venv / "bin" / "tracker"), "--help"], env=_clean_env(), cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert all(command in helped.stdout for command in ("init", "serve", "scheduler", "users"))
    where = _run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; "
                  "print(*(u.find_spec(m).origin for m in ('tracker', 'dashboards', 'jobs', 'reports', 'tracker_cli')))"],
                 env=_clean_env(), cwd=tmp_path)  # fmt: skip
    assert where.returncode == 0, where.stderr
    origins = where.stdout.split()
    assert len(origins) == 5 and all(
        Path(p).is_relative_to(venv) for p in origins
    )  # not this worktree's code
    freeze = _run([str(venv / "bin" / "python"), "-m", "pip", "--isolated", "freeze"], env=_clean_env())
    assert "cfp-pilot-tracker==" in freeze.stdout and "-e " not in freeze.stdout


@pytest.fixture(scope="module")
def initialised(offline_install: OfflineInstall, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An instance folder whose SQLite database `tracker init` of the offline venv created."""
    instance = tmp_path_factory.mktemp("instance")
    env = _clean_env(TRACKER_INSTANCE_DIR=str(instance))
    done = _run([str(offline_install.venv / "bin" / "tracker"), "init"], env=env, cwd=instance)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "schema up to date" in done.stdout and str(instance / "tracker.sqlite3") in done.stdout
    yield instance


@SQLITE_PASS
def test_tracker_init_from_the_offline_venv_builds_the_sqlite_database(initialised: Path) -> None:
    with sqlite3.connect(initialised / "tracker.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM cities").fetchone()[0] > 0  # the catalogue was loaded
    assert (initialised / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL pass only (TRACKER_TEST_DB=postgresql)")
def test_tracker_init_from_the_offline_venv_on_postgresql(
    offline_install: OfflineInstall, tmp_path: Path
) -> None:
    with fresh_database(tmp_path) as url:
        env = _clean_env(TRACKER_INSTANCE_DIR=str(tmp_path), TRACKER_DATABASE_URL=url)
        done = _run([str(offline_install.venv / "bin" / "tracker"), "init"], env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr  # psycopg's binary wheel works offline
        assert "schema up to date: postgresql+psycopg://" in done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def demo_instance(offline_install: OfflineInstall, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder holding the demo database, built by `tracker demo --no-serve` of the offline venv."""
    instance = tmp_path_factory.mktemp("demo")
    done = _run([str(offline_install.venv / "bin" / "tracker"), "demo", "--no-serve"],
                env=_clean_env(TRACKER_INSTANCE_DIR=str(instance)), cwd=instance)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (instance / "demo.sqlite3").exists() and "changzhi" in done.stdout
    return instance


def _wait_until_up(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/livez", timeout=5) as answer:
                assert answer.status == 200
                return
        except OSError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "tracker serve did not answer within 90 s"
            time.sleep(0.5)


@SQLITE_PASS
def test_the_offline_venv_serves_the_demo(offline_install: OfflineInstall, demo_instance: Path) -> None:
    """The demo, built and served from the offline install: its login page and assets come from the
    wheel, and a demo account logs in and gets its pages' layout."""
    import requests

    from tracker.demo.province import DEMO_PASSWORD

    port = _free_port()
    env = _clean_env(TRACKER_INSTANCE_DIR=str(demo_instance),
                     TRACKER_DATABASE_URL=f"sqlite:///{demo_instance / 'demo.sqlite3'}")  # fmt: skip
    server = subprocess.Popen(
        [str(offline_install.venv / "bin" / "tracker"), "serve", "--port", str(port), "--workers", "1"],
        env=env, cwd=demo_instance, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, server)
        http = requests.Session()
        page = http.get(f"{base}/login", timeout=30)
        assert "碳足迹试点监管平台" in page.text  # the template and the catalogue of texts are in the wheel
        css = http.get(f"{base}/assets/bootstrap.min.css", timeout=30)
        assert css.status_code == 200 and len(css.content) > 100_000  # assets are in the wheel
        assert http.get(f"{base}/_dash-layout", timeout=30).status_code in (302, 401)  # not before a login
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        login = http.post(f"{base}/login", timeout=30, allow_redirects=False,
                          data={"csrf": csrf.group(1), "username": "changzhi", "password": DEMO_PASSWORD, "next": "/"})  # fmt: skip
        assert login.status_code == 302, login.text[:500]
        layout = http.get(f"{base}/_dash-layout", timeout=30)
        assert layout.status_code == 200 and "碳足迹试点监管平台" in json.dumps(
            layout.json(), ensure_ascii=False
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _copy_of(bundle: Path, target: Path) -> Path:
    """The bundle again, by hard links where possible (a file changed in the copy is replaced, never edited)."""
    try:
        shutil.copytree(bundle, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(bundle, target)
    return target


def _replace(path: Path, content: bytes) -> None:
    path.unlink()
    path.write_bytes(content)


@SQLITE_PASS
@pytest.mark.parametrize("damage", ["changed_wheel", "missing_wheel", "unlisted_wheel", "no_checksums"])
def test_a_damaged_bundle_is_refused_and_nothing_is_installed(offline_install: OfflineInstall, tmp_path: Path,
                                                              damage: str) -> None:  # fmt: skip
    bundle = _copy_of(offline_install.bundle, tmp_path / "bundle")
    wheel = next((bundle / "wheels").glob("cfp_pilot_tracker-*.whl"))
    if damage == "changed_wheel":
        content = bytearray(wheel.read_bytes())
        content[len(content) // 2] ^= 0xFF
        _replace(wheel, bytes(content))
    elif damage == "missing_wheel":
        wheel.unlink()
    elif damage == "unlisted_wheel":
        (bundle / "wheels" / "zzz_extra-9.9-py3-none-any.whl").write_bytes(wheel.read_bytes())
    else:
        (bundle / "SHA256SUMS").unlink()
    venv = tmp_path / "venv"
    refused = _run([str(bundle / "install-offline"), str(bundle), str(venv)],
                   env=_clean_env(PYTHON=sys.executable), cwd=tmp_path)  # fmt: skip
    assert refused.returncode == 1
    assert "拒绝安装" in refused.stderr and "nothing was installed" in refused.stderr
    if damage in {"changed_wheel", "missing_wheel"}:
        assert "damaged or altered" in refused.stderr and wheel.name in refused.stderr
    if damage == "unlisted_wheel":
        assert "zzz_extra-9.9-py3-none-any.whl" in refused.stderr
    assert not venv.exists()


@SQLITE_PASS
def test_a_bundle_for_another_python_is_refused(offline_install: OfflineInstall, tmp_path: Path) -> None:
    bundle = _copy_of(offline_install.bundle, tmp_path / "bundle")
    info = (bundle / "BUNDLE-INFO").read_text()
    _replace(bundle / "BUNDLE-INFO", "".join(
        "python=cp39\n" if line.startswith("python=") else line for line in info.splitlines(keepends=True)
    ).encode())  # fmt: skip
    sums = _run(["sha256sum", "BUNDLE-INFO"], cwd=bundle).stdout
    lines = [sums if line.endswith("  BUNDLE-INFO") else line + "\n"
             for line in (bundle / "SHA256SUMS").read_text().splitlines()]  # fmt: skip
    _replace(bundle / "SHA256SUMS", "".join(lines).encode())
    venv = tmp_path / "venv"
    refused = _run([str(bundle / "install-offline"), str(bundle), str(venv)],
                   env=_clean_env(PYTHON=sys.executable), cwd=tmp_path)  # fmt: skip
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "cp39" in refused.stderr and "built for" in refused.stderr and "构建" in refused.stderr
    assert not venv.exists()
