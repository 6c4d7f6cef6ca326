#!/usr/bin/env bash
# Run every test: the library's tests (with its docstring examples), every exercise's reference
# solution through its check (and each student stub raising as it should), every chapter re-executed
# in a fresh kernel and compared with its saved outputs (strict nbval), the book build with warnings
# as errors, and a headless browser reading every built page. Sets up .venv on the first run.
source "$(dirname "$0")/_env.sh"
export LAZYLIB_PROGRESS=0 LAZYLIB_WIDGETS=static

echo "== 1/5 library tests (pytest tests/ and doctests) =="
MPLBACKEND=Agg python -m pytest tests --ignore=tests/browser --doctest-modules lazylib -q -p no:cacheprovider

echo "== 2/5 coursework: every exercise's reference solution passes its check =="
python -m lazylib.coursework check

echo "== 3/5 chapters (strict nbval: every output must equal the committed one) =="
python -m pytest --nbval --nbval-current-env -p no:cacheprovider -q book/*.ipynb

echo "== 4/5 book build (warnings are errors) =="
rm -rf _build/html
bash scripts/build_book.sh -W --keep-going --quiet

echo "== 5/5 the built book in a headless browser =="
source scripts/browser_deps.sh
python -m pytest tests/browser -q -p no:cacheprovider -rs
