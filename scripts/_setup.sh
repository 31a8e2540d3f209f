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
    say "安装依赖（首次约需一两分钟）/ installing Python packages ($extras; a minute or two the first time)"
    # pip's own lines (Collecting…, Downloading… with a bar, Installing…) show the progress.
    if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip \
           && "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -e "$ROOT$extras"; } \
         2>&1 | { grep -v '^Requirement already satisfied' || true; }; then
      echo "安装失败（见上方 pip 的输出）/ pip install failed (see pip's output above)" >&2
      exit 1
    fi
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_cjk_font() {
  # The bulletin's leadership PDF embeds Noto Sans CJK (Debian fonts-noto-cjk, SIL OFL 1.1).
  if dpkg -s fonts-noto-cjk >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "未安装中文字体 fonts-noto-cjk：通报 PDF 将无法生成（Excel 不受影响）/ fonts-noto-cjk is missing: bulletin PDFs cannot be built (Excel files can)" >&2
    return
  fi
  say "安装中文字体 / installing fonts-noto-cjk (for the bulletin PDF)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq fonts-noto-cjk >/dev/null \
    || echo "中文字体安装失败：通报 PDF 将无法生成 / could not install fonts-noto-cjk: bulletin PDFs cannot be built" >&2
}

ensure_browser() {
  # Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
  if [ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then return; fi
  say "安装 Chromium 与中文字体 / installing chromium, chromium-driver, fonts-noto-cjk"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
}

ensure_ops_tools() {
  # The checkers of deploy/: systemd-analyze (Debian systemd) for the units, nginx for the site
  # (tests/ops/test_deploy.py). Where services start on install, Debian's nginx starts its default site.
  local missing=()
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ "${#missing[@]}" = 0 ] && return
  say "安装部署检查工具 / installing ${missing[*]} (to check deploy/)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
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
