#!/usr/bin/env bash
# The oldest supported environment: make (or reuse) .venv-oldest with Python 3.11 and
# requirements-oldest.txt (lazylib's dependencies pinned at pyproject.toml's lower bounds; torch at
# 2.13.0, the only practical torch here: older ones on PyPI are multi-GB CUDA builds), then run the
# library tests and execute every chapter without comparing outputs (nbval-lax fails only on errors).
# The environment is reused while requirements-oldest.txt and pyproject.toml are unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON_OLDEST="${PYTHON_OLDEST:-python3.11}"
VENV=.venv-oldest
if [ ! -x "$VENV/bin/python" ]; then
  echo "[oldest] creating $VENV with $("$PYTHON_OLDEST" --version)"
  "$PYTHON_OLDEST" -m venv "$VENV"
fi
STAMP="$VENV/.requirements-stamp"
WANT="$(cat requirements-oldest.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "[oldest] installing requirements-oldest.txt into $VENV"
  if ! "$VENV/bin/python" -m pip install -r requirements-oldest.txt > "$VENV/install.log" 2>&1; then
    tail -n 40 "$VENV/install.log"
    echo "[oldest] installing failed; the full log is $VENV/install.log" >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
export LAZYLIB_PROGRESS=0 LAZYLIB_WIDGETS=static MPLBACKEND=Agg
"$VENV/bin/python" -c 'import numpy, matplotlib, torch; print("[oldest] numpy", numpy.__version__, "matplotlib", matplotlib.__version__, "torch", torch.__version__)'
# tests/browser needs playwright and the built book, which this environment does not have.
"$VENV/bin/python" -m pytest tests --ignore=tests/browser -q -p no:cacheprovider
"$VENV/bin/python" -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider -q book/*.ipynb
