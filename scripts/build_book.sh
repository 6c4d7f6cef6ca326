#!/usr/bin/env bash
# Build the HTML book from the committed (executed) chapters into _build/html.
# Extra arguments go to `jupyter-book build` (the test command adds -W --keep-going).
source "$(dirname "$0")/_env.sh"
jupyter-book build . --path-output . "$@"
echo
echo "The book is built: open $(pwd)/_build/html/index.html in a browser."
