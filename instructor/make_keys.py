"""Write the answer keys in ``lazylib/exercises.json`` from the instructor's reference answers.

``lazylib/exercises.json`` is the exercises' data file, shipped inside the package: per exercise its
label, chapter, tolerance (``rtol``, ``atol``) and hint, which are written by hand, and its ``key``
(grid, step, salt, digest), which this command writes. To change a hint, a tolerance or a chapter,
edit that exercise's object in the file; to add an exercise, add an object without a ``key`` and its
label at its place in ``"order"`` (the book order of ``lazylib.exercises.labels()``), give it a
reference in ``instructor/references.py``, and run this command.

For every exercise this computes the reference (``instructor/references.py``), chooses the grid that
fits the exercise's tolerance (see ``lazylib.exercises``), keeps the exercise's salt when its grid is
unchanged (a new random salt otherwise, or for every exercise with ``--new-salts``), stores the salted
digest of the reference's grid point, and verifies that the stored key accepts the reference and every
answer within the tolerance and rejects answers three tolerances away. It then writes the data file
in its one layout (exercises sorted by label, fields in a fixed order). Run it after changing an
exercise's reference or tolerance, and commit ``lazylib/exercises.json``.

Usage (from the repository root)::

    python -m instructor.make_keys             # rewrite the keys in lazylib/exercises.json
    python -m instructor.make_keys --check     # only verify the committed keys and the file's layout
                                               # (exit 1 on a mismatch)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import secrets
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXERCISES_JSON = ROOT / "lazylib" / "exercises.json"
#: What the data file holds: a note, the book order, the exercises; an exercise's fields, then its key's.
TOP_FIELDS = ("comment", "order", "exercises")
EXERCISE_FIELDS = ("label", "chapter", "rtol", "atol", "hint", "key")
KEY_FIELDS = ("grid", "step", "salt", "digest")
COMMENT = ("The exercises of lazylib.exercises: for each, its label, notebook (chapter), tolerance and hint, "
           "written by hand, and its key (the grid, its step, a salt and a salted digest of the grid point "
           "of the reference answer), written by `python -m instructor.make_keys`. 'order' lists the labels "
           "in book order. The file holds no answer.")

__all__ = ["choose_grid", "make_key", "accepts", "probe_points", "verify_key", "build_keys", "render",
           "write_keys", "main"]


def choose_grid(ref: float, rtol: float, atol: float) -> tuple[str, float]:
    """The grid ``(name, step)`` for a reference and its tolerance; the step never depends on ``ref``.

    Raises
    ------
    ValueError
        When no grid fits without its step revealing the reference (a relative tolerance on a
        reference that is zero or dominated by ``atol``).
    """
    if rtol == 0.0 and atol == 0.5 and ref == round(ref):
        return "integer", 1.0
    if rtol == 0.0 and atol > 0.0:
        return "linear", 1.25 * atol
    if rtol > 0.0 and ref != 0.0 and atol <= 0.1 * rtol * abs(ref) and rtol <= 0.1:
        return "log", 1.25 * rtol
    raise ValueError(f"no answer grid fits the reference with rtol={rtol}, atol={atol}: use rtol=0 with an "
                     "absolute tolerance, or an atol at most a tenth of rtol·|reference|.")


def make_key(label: str, ref: float, rtol: float, atol: float, salt: str | None = None) -> tuple[str, float, str, str]:
    """The key ``(grid, step, salt, digest)`` of one exercise."""
    from lazylib.exercises import digest, grid_point

    grid, step = choose_grid(ref, rtol, atol)
    salt = salt or secrets.token_hex(16)
    return grid, step, salt, digest(label, grid, grid_point(grid, step, ref), salt)


def accepts(label: str, key: tuple[str, float, str, str], value: float) -> bool:
    """Whether the self-check with ``key`` accepts ``value`` (the same rule as ``lazylib.exercises``)."""
    from lazylib.exercises import digest, grid_point

    grid, step, salt, stored = key
    if not math.isfinite(value):
        return False
    sign, k = grid_point(grid, step, value)
    if grid == "log" and sign == 0:
        return False
    shifts = (0,) if grid == "integer" else (0, -1, 1)
    return any(digest(label, grid, (sign, k + s), salt) == stored for s in shifts)


def probe_points(ref: float, rtol: float, atol: float, grid: str) -> tuple[list[float], list[float]]:
    """Answers the check must accept (the reference and answers within the tolerance) and answers it
    must reject (three tolerances away, the opposite sign, zero)."""
    tol = atol + rtol * abs(ref)
    inside = 0.999 * tol if grid == "integer" else tol  # the integer grid accepts [ref − 1/2, ref + 1/2)
    good = [ref, ref + inside, ref - inside, ref + 0.5 * tol, ref - 0.5 * tol]
    bad = [ref + 3 * tol, ref - 3 * tol, ref + 10 * tol, ref - 10 * tol]
    if abs(ref) > 3 * tol:
        bad += [-ref, 0.0]
    return good, bad


def verify_key(label: str, ref: float, rtol: float, atol: float, key: tuple[str, float, str, str]) -> list[str]:
    """Problems of ``key`` for this reference (empty when it accepts and rejects as it must)."""
    good, bad = probe_points(ref, rtol, atol, key[0])
    problems = [f"{label}: rejects {v!r}, within the tolerance" for v in good if not accepts(label, key, v)]
    problems += [f"{label}: accepts {v!r}, far outside the tolerance" for v in bad if accepts(label, key, v)]
    return problems


def _committed_keys() -> dict[str, tuple[str, float, str, str]]:
    import lazylib.exercises as ex

    return dict(ex._KEYS)


def build_keys(*, new_salts: bool = False, labels: list[str] | None = None) -> dict[str, tuple[str, float, str, str]]:
    """Compute and verify the key of every exercise (or of ``labels``)."""
    from lazylib.exercises import EXERCISES

    from instructor.references import reference

    old = {} if new_salts else _committed_keys()
    keys = {}
    for label in labels or list(EXERCISES):
        ex = EXERCISES[label]
        ref = reference(label)
        grid, step = choose_grid(ref, ex.rtol, ex.atol)
        salt = old[label][2] if label in old and old[label][:2] == (grid, step) else None
        keys[label] = make_key(label, ref, ex.rtol, ex.atol, salt)
        problems = verify_key(label, ref, ex.rtol, ex.atol, keys[label])
        if problems:
            raise AssertionError("; ".join(problems))
    return keys


def _fields(what: str, got: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
    unknown = [f for f in got if f not in allowed]
    missing = [f for f in required if f not in got]
    if unknown or missing:
        raise ValueError(f"{what} may have the fields {list(allowed)}, of which {list(required)} are required; "
                         f"got unknown {unknown}, missing {missing}.")


def render(data: dict[str, Any]) -> str:
    """The data file's text for ``data`` (its parsed JSON): the note, the book order as given, and the
    exercises sorted by label with their fields (and their key's) in a fixed order; floats are written
    as ``repr`` writes them, so they read back exactly.

    Raises
    ------
    ValueError
        For an unknown or missing field, or an ``order`` that does not list every exercise exactly once.
    """
    _fields("the data file", data, TOP_FIELDS, ("order", "exercises"))
    exercises = []
    for item in data["exercises"]:
        _fields(f"exercise {item.get('label')!r}", item, EXERCISE_FIELDS, EXERCISE_FIELDS[:-1])
        out = {"label": item["label"], "chapter": item["chapter"], "rtol": float(item["rtol"]),
               "atol": float(item["atol"]), "hint": item["hint"]}
        if item.get("key") is not None:
            key = item["key"]
            _fields(f"the key of exercise {item['label']!r}", key, KEY_FIELDS, KEY_FIELDS)
            out["key"] = {"grid": key["grid"], "step": float(key["step"]), "salt": key["salt"], "digest": key["digest"]}
        exercises.append(out)
    labels = [ex["label"] for ex in exercises]
    order = list(data["order"])
    if sorted(order) != sorted(set(labels)) or len(set(labels)) != len(labels):
        repeated = sorted({x for x in order if order.count(x) > 1} | {x for x in labels if labels.count(x) > 1})
        raise ValueError("'order' must list the label of every exercise once, and the labels must differ; "
                         f"listed but no exercise: {sorted(set(order) - set(labels))}, not listed: "
                         f"{sorted(set(labels) - set(order))}, repeated: {repeated}.")
    out = {"comment": COMMENT, "order": order, "exercises": sorted(exercises, key=lambda ex: ex["label"])}
    return json.dumps(out, indent=1, ensure_ascii=False) + "\n"


def write_keys(keys: dict[str, tuple[str, float, str, str]], path: pathlib.Path = EXERCISES_JSON) -> bool:
    """Set the key of every exercise in ``keys`` in the data file ``path`` (the other exercises keep
    theirs) and write it in its layout (:func:`render`); returns whether the file changed."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    items = {item.get("label"): item for item in data.get("exercises", [])}
    unknown = sorted(set(keys) - set(items))
    if unknown:
        raise ValueError(f"{path} has no exercise {unknown}; add the exercise to the file first.")
    for label, (grid, step, salt, stored) in keys.items():
        items[label]["key"] = {"grid": grid, "step": step, "salt": salt, "digest": stored}
    new = render(data)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LAZYLIB_PROGRESS", "0")
    parser = argparse.ArgumentParser(prog="python -m instructor.make_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed keys; exit 1 on a mismatch")
    parser.add_argument("--new-salts", action="store_true", help="draw a new salt for every exercise")
    args = parser.parse_args(argv)
    if args.check:
        from lazylib.exercises import EXERCISES

        from instructor.references import reference

        committed = _committed_keys()
        problems = []
        text = EXERCISES_JSON.read_text(encoding="utf-8")
        try:
            if render(json.loads(text)) != text:
                problems.append(f"{EXERCISES_JSON.relative_to(ROOT)}: not in the layout make_keys writes "
                                "(run `python -m instructor.make_keys`)")
        except ValueError as err:
            problems.append(f"{EXERCISES_JSON.relative_to(ROOT)}: {err}")
        for label, ex in EXERCISES.items():
            if label not in committed:
                problems.append(f"{label}: no key")
                continue
            problems += verify_key(label, reference(label), ex.rtol, ex.atol, committed[label])
        for p in problems:
            print(p)
        print(f"{len(EXERCISES)} exercise(s), {len(problems)} problem(s)")
        return 1 if problems else 0
    keys = build_keys(new_salts=args.new_salts)
    changed = write_keys(keys)
    print(f"{len(keys)} answer key(s) verified; {EXERCISES_JSON.relative_to(ROOT)} {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
