"""deploy/ (issue 23 point 2): the systemd units pass ``systemd-analyze verify`` (no warning either)
and its offline security review; the nginx site passes ``nginx -t`` with a self-signed certificate,
then runs in front of a stand-in upstream: proxy headers as the app reads them with
TRACKER_PROXY_HOPS=1, the app's body limits, cached public assets without anyone's cookie, HSTS and
the app's own security headers passed through once.

The checkers are Debian's (systemd, nginx, openssl); ``scripts/test`` installs them (ensure_ops_tools).
"""

from __future__ import annotations

import configparser
import http.client
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dashboards.requests import CALLBACK_PATH, MAX_CALLBACK_BYTES, MAX_OTHER_BYTES
from tracker.core.config import SETTING_NAMES
from tracker_cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = {"web": DEPLOY / "systemd" / "cfp-tracker-web.service",
         "scheduler": DEPLOY / "systemd" / "cfp-tracker-scheduler.service"}  # fmt: skip
SITE = DEPLOY / "nginx" / "cfp-tracker.conf"
ENV_FILE = DEPLOY / "tracker.env"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _tool(name: str | None, what: str) -> str:
    if name is None or (shutil.which(name) is None and not Path(name).exists()):
        pytest.skip(
            f"{what} is not installed here (scripts/test installs it: ensure_ops_tools in scripts/_setup.sh)"
        )
    return name


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _env_file() -> dict[str, str]:
    pairs = {}
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


# --- systemd --------------------------------------------------------------------------------------


@pytest.fixture
def systemd_root(tmp_path: Path) -> Path:
    """A file-system root with the host's system units, ours, the environment file and an executable
    standing in for the installed venv's tracker."""
    for folder in ("usr/lib/systemd", "etc/systemd/system", "etc/cfp-tracker", "opt/cfp-tracker/venv/bin"):
        (tmp_path / folder).mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    for unit in UNITS.values():
        shutil.copy(unit, tmp_path / "etc/systemd/system" / unit.name)
    shutil.copy(ENV_FILE, tmp_path / "etc/cfp-tracker/tracker.env")
    tracker = tmp_path / "opt/cfp-tracker/venv/bin/tracker"
    tracker.write_text("#!/bin/sh\n")
    tracker.chmod(0o755)
    return tmp_path


def _verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    analyze = _tool("systemd-analyze", "systemd-analyze (Debian package systemd)")
    return subprocess.run([analyze, "verify", f"--root={root}", *names], capture_output=True, text=True)


def test_the_units_pass_systemd_analyze_verify_without_a_warning(systemd_root: Path) -> None:
    done = _verify(systemd_root, *(unit.name for unit in UNITS.values()))
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done.stdout + done.stderr


def test_the_verify_check_sees_a_mistake(systemd_root: Path) -> None:
    unit = systemd_root / "etc/systemd/system" / UNITS["web"].name
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    done = _verify(systemd_root, unit.name)
    assert "Unknown key 'ProtectSytem'" in done.stderr


@pytest.mark.parametrize("role", sorted(UNITS))
def test_each_unit_is_hardened(systemd_root: Path, role: str) -> None:
    analyze = _tool("systemd-analyze", "systemd-analyze (Debian package systemd)")
    done = subprocess.run([analyze, "security", "--offline=true", f"--root={systemd_root}", "--threshold=25",
                           "--no-pager", UNITS[role].name], capture_output=True, text=True)  # fmt: skip
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    assert done.returncode == 0 and level and float(level.group(1)) <= 2.5, done.stdout[-2000:] + done.stderr


@pytest.mark.parametrize("role", sorted(UNITS))
def test_each_unit_runs_a_real_command_as_its_own_user_with_the_settings_file(role: str) -> None:
    service = _unit(UNITS[role])["Service"]
    exec_start = service["ExecStart"].split()
    assert exec_start[0] == "/opt/cfp-tracker/venv/bin/tracker"
    command = cli.commands[exec_start[1]]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {arg for arg in exec_start[2:] if arg.startswith("--")} <= options
    assert exec_start[1] == {"web": "serve", "scheduler": "scheduler"}[role]
    assert service["User"] == service["Group"] == "cfp-tracker"
    assert service["EnvironmentFile"] == "/etc/cfp-tracker/tracker.env"
    assert service["Restart"] == "on-failure"
    instance = _env_file()["TRACKER_INSTANCE_DIR"]
    assert service["ReadWritePaths"] == instance == "/var/lib/" + service["StateDirectory"]
    assert service["WorkingDirectory"] == instance
    for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "PrivateDevices": "yes"}.items():  # fmt: skip
        assert service[key] == value, key


def test_sysusers_creates_the_units_user_without_a_login(tmp_path: Path) -> None:
    sysusers = _tool("systemd-sysusers", "systemd-sysusers (Debian package systemd)")
    (tmp_path / "etc").mkdir()
    done = subprocess.run([sysusers, f"--root={tmp_path}", str(DEPLOY / "sysusers.d" / "cfp-tracker.conf")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    entry = next(
        line for line in (tmp_path / "etc/passwd").read_text().splitlines() if line.startswith("cfp-tracker:")
    )
    name, _x, uid, _gid, _gecos, home, shell = entry.split(":")
    assert int(uid) < 1000 and home == _env_file()["TRACKER_INSTANCE_DIR"] and shell == "/usr/sbin/nologin"
    assert _unit(UNITS["web"])["Service"]["User"] == name


def test_the_web_unit_listens_where_nginx_sends_and_only_on_loopback() -> None:
    exec_start = _unit(UNITS["web"])["Service"]["ExecStart"].split()
    address = f"{exec_start[exec_start.index('--host') + 1]}:{exec_start[exec_start.index('--port') + 1]}"
    assert address == "127.0.0.1:8050"
    upstream = re.search(r"upstream cfp_tracker \{\s*server ([\d.:]+);", SITE.read_text())
    assert upstream and upstream.group(1) == address


def test_the_environment_file_sets_only_known_settings_for_one_proxy_over_tls() -> None:
    keys = set(re.findall(r"^#?(TRACKER_\w+)=", ENV_FILE.read_text(), flags=re.MULTILINE))
    assert keys - set(SETTING_NAMES) == {"TRACKER_WEB_WORKERS"}  # the web unit's own variable
    env = _env_file()
    assert env["TRACKER_PROXY_HOPS"] == "1" and env["TRACKER_COOKIE_SECURE"] == "true"
    assert env["TRACKER_WEB_WORKERS"].isdigit()


# --- nginx ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    openssl = _tool("openssl", "openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


def _nginx_prefix(folder: Path, site: str) -> Path:
    """A prefix with a main nginx.conf that includes ``site`` (the http-context file, as sites-enabled is)."""
    cert, key = _certificate(folder)
    site = (site.replace("/etc/ssl/certs/cfp-tracker.pem", str(cert))
                .replace("/etc/ssl/private/cfp-tracker.key", str(key))
                .replace("/var/cache/nginx/cfp-tracker", str(folder / "cache")))  # fmt: skip
    (folder / "site.conf").write_text(site)
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    # Workers as this test's user, who owns the temporary folders (a server's workers are www-data).
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(f"""
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    {mime}
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
""")
    return folder / "nginx.conf"


def test_the_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _tool(NGINX, "nginx (Debian package nginx)")
    conf = _nginx_prefix(tmp_path, SITE.read_text())
    done = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


def test_the_site_allows_the_bodies_the_app_allows() -> None:
    text = SITE.read_text()
    sizes = {"m": 2**20, "k": 2**10}

    def size(value: str) -> int:
        return int(value[:-1]) * sizes[value[-1]]

    server_wide = re.findall(r"^    client_max_body_size (\w+);", text, flags=re.MULTILINE)
    callback = re.search(
        r"location = " + re.escape(CALLBACK_PATH) + r" \{\s*client_max_body_size (\w+);", text
    )
    assert [size(v) for v in server_wide] == [MAX_OTHER_BYTES]
    assert callback and size(callback.group(1)) == MAX_CALLBACK_BYTES


class Upstream:
    """Stands in for gunicorn: the app's ProxyFix (TRACKER_PROXY_HOPS=1) over a WSGI app that says what it
    saw, and answers /assets/ as Flask does (no-cache, Vary: Cookie, a session cookie)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.app = ProxyFix(self.wsgi, x_for=1, x_proto=1)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        body = request.get_data()
        response = Response(f"{request.remote_addr} {request.scheme} {request.host} {len(body)}")
        response.headers["Content-Security-Policy"] = "default-src 'self'"
        if request.path.startswith("/assets/"):
            response.headers.update({"Cache-Control": "no-cache", "Vary": "Cookie", "Content-Type": "text/css",
                                     "Set-Cookie": "cfp_session=someone-else; HttpOnly"})  # fmt: skip
        return response(environ, start_response)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[int, int, Upstream, ssl.SSLContext]]:
    """The site running on free loopback ports in front of the stand-in upstream."""
    nginx = _tool(NGINX, "nginx (Debian package nginx)")
    upstream = Upstream()
    http_port, https_port = _free_port(), _free_port()
    site = (SITE.read_text()
            .replace("listen [::]:80;", "").replace("listen [::]:443 ssl http2;", "")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("server 127.0.0.1:8050;", f"server 127.0.0.1:{upstream.port};"))  # fmt: skip
    conf = _nginx_prefix(tmp_path, site)
    process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while socket.socket().connect_ex(("127.0.0.1", https_port)) != 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        yield http_port, https_port, upstream, context
    finally:
        process.terminate()
        process.wait(timeout=20)
        upstream.server.shutdown()
    logged = (tmp_path / "error.log").read_text()
    assert not re.search(r"\[(crit|alert|emerg)\]", logged), logged


def _request(port: int, context: ssl.SSLContext | None, method: str, path: str,
             headers: dict[str, str] | None = None, body: bytes | None = None) -> http.client.HTTPResponse:  # fmt: skip
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection("localhost", port, context=context, timeout=30) if context
        else http.client.HTTPConnection("localhost", port, timeout=30)
    )  # fmt: skip
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _announced(port: int, context: ssl.SSLContext, path: str, length: int) -> int:
    """The status for a POST announcing ``length`` bytes, answered before the body is sent (or not)."""
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n"
                    "Content-Type: application/json\r\nConnection: close\r\n\r\n".encode())  # fmt: skip
        tls.settimeout(10)
        return int(tls.recv(64).split()[1])


def test_the_app_sees_the_client_address_and_https_behind_one_proxy(proxied: Any) -> None:
    _http, https_port, _upstream, context = proxied
    answer = _request(https_port, context, "GET", "/login", {"X-Forwarded-For": "203.0.113.9",
                                                             "X-Forwarded-Proto": "http"})  # fmt: skip
    connection = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=30)
    connection.request(
        "GET", "/login", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example"}
    )
    seen = connection.getresponse().read().decode().split()
    connection.close()
    assert answer.status == 200
    assert seen[:3] == [
        "127.0.0.1",
        "https",
        "localhost",
    ]  # a client's own forwarding headers are not believed
    assert answer.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert answer.headers.get_all("Content-Security-Policy") == ["default-src 'self'"]  # the app's, once
    assert answer.getheader("Server") == "nginx"  # no version


def test_plain_http_is_sent_to_https(proxied: Any) -> None:
    http_port, _https, upstream, _context = proxied
    answer = _request(http_port, None, "GET", "/pilots?x=1")
    assert answer.status == 301 and answer.getheader("Location", "").startswith("https://localhost")
    assert upstream.hits == {}


def test_bodies_over_the_apps_limits_are_refused_by_nginx(proxied: Any) -> None:
    _http, https_port, upstream, context = proxied
    assert _request(https_port, context, "POST", "/login", body=b"x" * MAX_OTHER_BYTES).status == 200
    assert _announced(https_port, context, "/login", MAX_OTHER_BYTES + 1) == 413
    assert (
        _request(https_port, context, "POST", CALLBACK_PATH, body=b"x" * (2 * MAX_OTHER_BYTES)).status == 200
    )
    assert _announced(https_port, context, CALLBACK_PATH, MAX_CALLBACK_BYTES + 1) == 413
    assert _announced(https_port, context, "/api/v1/pilots", MAX_OTHER_BYTES + 1) == 413
    assert upstream.hits == {"/login": 1, CALLBACK_PATH: 1}


def test_public_assets_are_cached_without_the_cookie(proxied: Any) -> None:
    _http, https_port, upstream, context = proxied
    first = _request(https_port, context, "GET", "/assets/tracker.css?m=1", {"Cookie": "cfp_session=mine"})
    second = _request(https_port, context, "GET", "/assets/tracker.css?m=1")
    assert (first.getheader("X-Cache-Status"), second.getheader("X-Cache-Status")) == ("MISS", "HIT")
    assert upstream.hits["/assets/tracker.css"] == 1
    for answer in (first, second):
        assert answer.getheader("Set-Cookie") is None and answer.getheader("Vary") is None
        assert answer.getheader("Cache-Control") == "public, max-age=86400"
        assert answer.getheader("Strict-Transport-Security") == "max-age=31536000"
    suites = "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.v4_4_1m1.min.js"
    for _ in range(2):
        assert _request(https_port, context, "GET", suites).getheader("X-Cache-Status") is None
    assert upstream.hits[suites] == 2  # behind the login: never answered from nginx's cache
