"""Self-checks for the book's exercises, which tell right from wrong without holding the answers.

Every computational exercise ends in a cell ``check("lazy-4.2", answer)``, which answers "correct" or
"not yet" with a hint that points at the idea without giving the number away. Answers of the wrong type
get a message saying what was expected. An exercise's *label* is its key as printed in the book,
chapter and position (``"lazy-4.2"``).

This module is what students install, so it holds no reference answer and computes none: the reference
computations live in the instructor's source (``instructor/references.py`` in the book's repository,
not part of the installed package). The exercises are data, in ``exercises.json`` next to this module
(shipped in the package and read once at import): per exercise its label, chapter, tolerance and hint,
which are edited in that file, and its *key*: a grid that fits the exercise's tolerance, its step, a
random salt, and a salted digest (PBKDF2-HMAC-SHA256) of the grid point of the reference.
``python -m instructor.make_keys`` computes the keys from the references and rewrites them in the file
(its docstring says how to add an exercise). ``check`` maps the student's answer to its grid point
``k`` and accepts it when the digest of ``k − 1``, ``k`` or ``k + 1`` equals the stored one.

The three grids, with ``⌊·⌉`` meaning ``floor(· + 1/2)``, ``ref`` the reference and ``h``/``δ`` the step:

``"linear"`` (exercises with an absolute tolerance ``atol``; ``h = 1.25·atol``)
    ``k = ⌊a/h⌉``. The answer ``a`` is accepted exactly when ``|⌊a/h⌉ − ⌊ref/h⌉| ≤ 1``: every ``a``
    with ``|a − ref| < h`` is accepted (so every ``a`` within the tolerance ``|a − ref| ≤ atol``), and
    every ``a`` with ``|a − ref| ≥ 2h = 2.5·atol`` is rejected.
``"log"`` (exercises with a relative tolerance ``rtol``; ``δ = 1.25·rtol``)
    ``k = (sign a, ⌊log|a|/δ⌉)``. The answer is accepted exactly when it has the sign of ``ref`` and
    ``|⌊log|a|/δ⌉ − ⌊log|ref|/δ⌉| ≤ 1``: every ``a`` with ``|log(a/ref)| < δ`` is accepted (so every
    ``a`` within ``|a − ref| ≤ atol + rtol·|ref|``, as the key generator verifies), and every ``a``
    with ``|log(a/ref)| ≥ 2δ`` is rejected (so every ``a`` off by 3 tolerances or more).
``"integer"`` (whole-number answers)
    ``k = ⌊a⌉``; accepted exactly when ``k = ref``, that is ``ref − 1/2 ≤ a < ref + 1/2``.

A digest cannot be inverted, and the slow hash makes trying grid points offline costly. It cannot hide
an answer that has few possible values (a fraction of 200 test points, a whole number): those, like
any right-or-wrong self-check, can be found by trying values; graded work is therefore scored by the
instructor's grader (``python -m instructor.grade``) against the references themselves.

Examples
--------
>>> from lazylib.exercises import check
>>> check("lazy-4.3", "four")
lazy-4.3: expected a number (a float or a one-element tensor); got str.
>>> check("lazy-4.3", -1.0)  # doctest: +ELLIPSIS
lazy-4.3: not yet. Hint: every row moved by the same vector; ...
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from importlib import resources
from numbers import Real
from typing import Any

__all__ = ["check", "Feedback", "Exercise", "EXERCISES", "labels", "grid_point", "digest"]

#: PBKDF2 iterations of one digest: about 3 ms, so a check (three digests) stays quick while trying
#: many grid points offline is slow.
ITERATIONS = 10_000
GRIDS = ("linear", "log", "integer")
_DATA_FILE = "exercises.json"


@dataclass(frozen=True)
class Feedback:
    """The verdict of :func:`check`; shows as its message in a notebook, true when correct."""

    label: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise (it holds no answer).

    Attributes
    ----------
    label : str
        The key students pass to :func:`check`.
    chapter : str
        The notebook the exercise belongs to.
    rtol, atol : float
        The tolerance the exercise asks for, ``|answer − reference| ≤ atol + rtol·|reference|``; the
        grader applies it exactly, the self-check through its grid (see the module's notes).
    hint : str
        Shown on a wrong answer; never contains the answer.
    """

    label: str
    chapter: str
    rtol: float
    atol: float
    hint: str

    @property
    def grid(self) -> str:
        """The grid of the self-check: ``"linear"``, ``"log"`` or ``"integer"``."""
        return _KEYS[self.label][0]

    @property
    def step(self) -> float:
        """The grid's step (``h`` or ``δ``; 1 for ``"integer"``)."""
        return _KEYS[self.label][1]


EXERCISES: dict[str, Exercise] = {}
#: label: (grid, step, salt, digest of the reference's grid point), from the data file's ``key`` fields.
_KEYS: dict[str, tuple[str, float, str, str]] = {}


def labels() -> list[str]:
    """Every registered exercise label, in book order."""
    return list(EXERCISES)


def grid_point(grid: str, step: float, value: float) -> tuple[int, int]:
    """The grid point ``(sign, k)`` of a finite ``value`` (sign is 0 except on the ``"log"`` grid).

    Examples
    --------
    >>> grid_point("linear", 0.5, 1.3)
    (0, 3)
    >>> grid_point("integer", 1.0, 41.6)
    (0, 42)
    >>> grid_point("log", 0.01, -1.0)
    (-1, 0)
    """
    if grid == "linear":
        return 0, math.floor(value / step + 0.5)
    if grid == "integer":
        return 0, math.floor(value + 0.5)
    if grid == "log":
        if value == 0:
            return 0, 0
        return (1 if value > 0 else -1), math.floor(math.log(abs(value)) / step + 0.5)
    raise ValueError(f"`grid` must be one of {GRIDS}; got {grid!r}.")


def digest(label: str, grid: str, point: tuple[int, int], salt: str) -> str:
    """The salted digest of a grid point (hex), as stored in the answer keys."""
    message = f"{label}|{grid}|{point[0]}|{point[1]}".encode()
    return hashlib.pbkdf2_hmac("sha256", message, bytes.fromhex(salt), ITERATIONS).hex()[:32]


def _matches(label: str, value: float) -> bool:
    """Whether ``value`` (finite) lies on the reference's grid point or one of its two neighbours."""
    grid, step, salt, stored = _KEYS[label]
    sign, k = grid_point(grid, step, value)
    if grid == "log" and sign == 0:
        return False
    shifts = (0,) if grid == "integer" else (0, -1, 1)
    return any(digest(label, grid, (sign, k + s), salt) == stored for s in shifts)


def _as_number(answer: Any) -> float | str:
    """The answer as a float, or a message saying why it cannot be one."""
    expected = "expected a number (a float or a one-element tensor); got"
    if hasattr(answer, "numel") and hasattr(answer, "item"):  # a torch tensor
        if answer.numel() != 1:
            return f"{expected} a tensor of shape {tuple(answer.shape)}"
        if answer.dtype.is_complex or str(answer.dtype) == "torch.bool":
            return f"expected real numbers; got dtype {answer.dtype}"
        answer = answer.detach().cpu().item()
    elif hasattr(answer, "size") and hasattr(answer, "item") and hasattr(answer, "dtype"):  # numpy
        if answer.size != 1:
            return f"{expected} an array of shape {tuple(answer.shape)}"
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, Real):
        return f"{expected} {type(answer).__name__}"
    return float(answer)


def check(label: str, answer: Any) -> Feedback:
    """Check an exercise's answer; returns a :class:`Feedback` that displays its verdict.

    Parameters
    ----------
    answer : float, int or one-element torch.Tensor
        The student's answer.

    Raises
    ------
    ValueError
        For a label that names no exercise (the message lists the known labels of that chapter).

    Examples
    --------
    >>> check("lazy-4.3", float("nan"))
    lazy-4.3: the answer holds NaN or inf; expected finite numbers.
    """
    if not isinstance(label, str):
        raise TypeError(f"`label` must be an exercise label such as 'lazy-4.1'; got {type(label).__name__}.")
    if label not in EXERCISES:
        prefix = label.split(".")[0]
        near = [k for k in EXERCISES if k.startswith(prefix)] or list(EXERCISES)
        raise ValueError(f"`label` must be a known exercise label, one of {near}; got {label!r}.")
    ex = EXERCISES[label]
    got = _as_number(answer)
    if isinstance(got, str):
        return Feedback(label, False, f"{label}: {got}.")
    if not math.isfinite(got):
        return Feedback(label, False, f"{label}: the answer holds NaN or inf; expected finite numbers.")
    if _matches(label, got):
        return Feedback(label, True, f"{label}: correct.")
    return Feedback(label, False, f"{label}: not yet. Hint: {ex.hint}")


def _load() -> None:
    """Register the exercises of the data file in its ``order`` (the book order), with their keys."""
    data = json.loads(resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8"))
    items = {item["label"]: item for item in data["exercises"]}
    if sorted(data["order"]) != sorted(items) or len(items) != len(data["exercises"]):
        raise ValueError(f"{_DATA_FILE}: 'order' must list the label of every exercise once.")
    for label in data["order"]:
        item = items[label]
        EXERCISES[label] = Exercise(label=label, chapter=item["chapter"], rtol=float(item["rtol"]),
                                    atol=float(item["atol"]), hint=item["hint"])
        if item.get("key") is not None:  # an exercise gets its key from `python -m instructor.make_keys`
            key = item["key"]
            _KEYS[label] = (key["grid"], float(key["step"]), key["salt"], key["digest"])


_load()
