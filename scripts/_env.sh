# Sourced by the project's commands: make (or reuse) the virtual environment .venv inside the
# checkout, install the pinned book environment (requirements.txt, with lazylib from the checkout) and
# the test tools (requirements-dev.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[env] creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.requirements-stamp"
WANT="$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "[env] installing requirements-dev.txt (the pinned book environment and test tools) into .venv; the first run takes a few minutes"
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -r requirements-dev.txt; } \
      > .venv/install.log 2>&1; then
    tail -n 40 .venv/install.log
    echo "[env] installing the requirements failed; the full log is .venv/install.log" >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
