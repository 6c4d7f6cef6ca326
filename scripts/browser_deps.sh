# Sourced by scripts/test.sh: what the browser tests need, installed where this machine allows it.
#  - Chromium: Debian's package (apt-get, as root); LAZYLIB_CHROMIUM may point at another binary.
#  - MathJax 3 (the version the book loads from its CDN), from the npm registry into .venv/browser,
#    so the pages are typeset without reaching the CDN.
# Whatever cannot be installed is left missing; the browser tests then skip and say why.
if [ -z "${LAZYLIB_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[browser] installing Debian's chromium (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      > .venv/browser-apt.log 2>&1 || echo "[browser] could not install chromium (see .venv/browser-apt.log)"
  else
    echo "[browser] chromium is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
if [ ! -f .venv/browser/node_modules/mathjax/es5/tex-mml-chtml.js ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "[browser] installing MathJax 3 from the npm registry into .venv/browser"
    mkdir -p .venv/browser
    (cd .venv/browser && npm install --no-audit --no-fund --silent mathjax@3.2.2 > ../browser-npm.log 2>&1) \
      || echo "[browser] could not install MathJax (see .venv/browser-npm.log)"
  else
    echo "[browser] npm is missing: MathJax cannot be installed, the browser tests will skip"
  fi
fi
export LAZYLIB_MATHJAX_DIR="${LAZYLIB_MATHJAX_DIR:-$PWD/.venv/browser/node_modules/mathjax}"
