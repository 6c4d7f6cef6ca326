#!/usr/bin/env bash
# Run every test: the library's tests (with its docstring examples), every chapter re-executed in a
# fresh kernel and compared with its saved outputs (strict nbval), and the book build with warnings
# as errors. Sets up .venv from requirements.txt on the first run.
source "$(dirname "$0")/_env.sh"
export LAZYLIB_PROGRESS=0 LAZYLIB_WIDGETS=static

echo "== 1/3 library tests (pytest tests/ and doctests) =="
MPLBACKEND=Agg python -m pytest tests --doctest-modules lazylib -q -p no:cacheprovider

echo "== 2/3 chapters (strict nbval: every output must equal the committed one) =="
python -m pytest --nbval --nbval-current-env -p no:cacheprovider -q book/*.ipynb

echo "== 3/3 book build (warnings are errors) =="
rm -rf _build/html
bash scripts/build_book.sh -W -n --keep-going --quiet
