"""Sphinx extension: let the library's docstrings use |x| for absolute values and norms.

The docstrings are written for readers of the code (``|f(x)|``, ``‖x‖``), but reStructuredText reads
``|name|`` as a substitution. Outside ``.. math::`` blocks every ``|`` is escaped before parsing.
"""

from __future__ import annotations


def _escape_bars(app, what, name, obj, options, lines):
    in_math, math_indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith(".. math::"):
            in_math, math_indent = True, indent
            lines[i] = line if "|" not in stripped[len(".. math::"):] else line
            continue
        if in_math and stripped and indent <= math_indent:
            in_math = False
        if not in_math and "|" in line:
            lines[i] = line.replace("\\|", "|").replace("|", "\\|")


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
