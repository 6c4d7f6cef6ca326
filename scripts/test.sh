#!/usr/bin/env bash
# Run every test: the library's tests (with its docstring examples), every exercise's reference
# solution through its check (and each student stub raising as it should), every chapter re-executed
# in a fresh kernel and compared with its saved outputs (strict nbval), the book build with warnings
# as errors, and a headless browser reading every built page. The chapters are compared twice more
# under other CPU kernels (the portable ones, and AVX2), as the book may run on any CPU; and the library
# tests and chapters run in the oldest supported environment (.venv-oldest). Sets up .venv on the first run.
# The chapter comparisons sanitize the explorers' embedded PNG data (book/nbval_sanitize.cfg): images are
# left out of the comparison as nbval leaves out PNG outputs; the rest of their HTML is compared strictly.
source "$(dirname "$0")/_env.sh"
export LAZYLIB_PROGRESS=0 LAZYLIB_WIDGETS=static
START=$SECONDS
trap 'echo "[test] wall time: $((SECONDS - START)) s"' EXIT

echo "== 1/8 library tests (pytest tests/ and doctests) =="
MPLBACKEND=Agg python -m pytest tests --ignore=tests/browser --doctest-modules lazylib -q -p no:cacheprovider

echo "== 2/8 coursework: every exercise's reference solution passes its check =="
python -m lazylib.coursework check

echo "== 3/8 chapters (strict nbval: every output must equal the committed one) =="
python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/nbval_sanitize.cfg -p no:cacheprovider -q book/*.ipynb

echo "== 4/8 chapters again under portable kernels (ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=3) =="
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=3 \
  python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/nbval_sanitize.cfg -p no:cacheprovider -q book/*.ipynb

echo "== 5/8 chapters again under AVX2 kernels (ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2) =="
ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/nbval_sanitize.cfg -p no:cacheprovider -q book/*.ipynb

echo "== 6/8 book build (warnings are errors) =="
rm -rf _build/html
bash scripts/build_book.sh -W --keep-going --quiet

echo "== 7/8 the built book in a headless browser =="
source scripts/browser_deps.sh
python -m pytest tests/browser -q -p no:cacheprovider -rs

echo "== 8/8 oldest supported environment (.venv-oldest: library tests, chapters executed without output comparison) =="
bash scripts/oldest_env.sh
