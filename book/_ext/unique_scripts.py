"""Sphinx extension: drop repeated identical inline <script> blocks from the built pages.

sphinx-thebe and sphinx-togglebutton register their inline configuration scripts in a way that the
Jupyter Book build emits twice on every page; the second copy of sphinx-thebe's re-declares
`const THEBE_JS_URL` and throws in the browser. After the build, this keeps the first copy of each
identical inline script and removes the rest (scripts with a `src` are left alone).
"""

from __future__ import annotations

import pathlib
import re

_INLINE = re.compile(r"[ \t]*<script>(?P<body>[^<]*)</script>\n?")


def dedupe_html(text: str) -> str:
    seen: set[str] = set()

    def keep_first(match: re.Match) -> str:
        body = match.group("body")
        if body in seen:
            return ""
        seen.add(body)
        return match.group(0)

    return _INLINE.sub(keep_first, text)


def _build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in pathlib.Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = dedupe_html(text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
