# Shared set-up for scripts/demo and scripts/test (sourced, not run).
# Creates .venv and installs the project; reinstalls only when pyproject.toml changes.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_venv() {
  local extras="$1" stamp
  if [ ! -x "$VENV/bin/python" ]; then
    say "创建虚拟环境 / creating virtualenv .venv"
    python3 -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-$extras"
  if [ ! -f "$stamp" ]; then
    say "安装依赖 / installing Python packages ($extras)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT$extras"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_browser() {
  # Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
  if [ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then return; fi
  say "安装 Chromium 与中文字体 / installing chromium, chromium-driver, fonts-noto-cjk"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
}

ensure_postgres() {
  # The tests create and drop their own database on the server at 127.0.0.1:5432 (user postgres).
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if [ ! -d /etc/postgresql ] || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    say "安装 PostgreSQL / installing postgresql"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    local hba
    hba="$(ls -d /etc/postgresql/*/main | head -n1)/pg_hba.conf"
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  fi
  say "启动 PostgreSQL / starting postgresql"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  echo "PostgreSQL 未能启动 / PostgreSQL did not start" >&2
  exit 1
}
