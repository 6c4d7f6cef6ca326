"""Small helpers for the book's notebooks: put computed numbers into the prose.

The built book inserts numbers into the text with myst-nb's ``glue``; in a plain Jupyter or Colab
session, where myst-nb is not installed, :func:`glue` does nothing and the number stays visible in
the cell that computed it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["glue", "Formatted"]


class Formatted:
    """A value that shows on the page as a fixed string (exactly the claimed precision).

    Its plain-text form is a quoted string literal: myst-nb reads glued text with ``literal_eval``,
    which would turn ``0.50`` into ``0.5`` and ``1,234`` into a tuple, but gives a string back as it is.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)

    def __str__(self) -> str:
        return self.text


def glue(name: str, value: Any, fmt: str | None = None) -> None:
    """Record ``value`` under ``name`` for the page's prose (``{glue:}`name```), without displaying it.

    Parameters
    ----------
    fmt : str, optional
        A format spec such as ``".2f"``; the value is formatted here, so the page shows exactly
        this precision (and the saved output does not depend on the last bits of a float).

    Examples
    --------
    >>> from lazylib.notebook import glue
    >>> glue("half", 0.5, ".2f")  # shows nothing; the page's {glue:}`half` reads 0.50
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string; got {name!r}.")
    shown = Formatted(format(value, fmt)) if fmt is not None else value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return
    _glue(name, shown, display=False)
